// Internal: a reusable libjpeg-turbo decompressor with region-of-interest and DCT-scaled decoding.
// Not thread-safe: one per thread (see thread_jpeg_reader()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fastimg/decode.hpp"
#include "jpeg_markers.hpp"
#include "jpeg_splice.hpp"

namespace fastimg::detail {

struct JpegHeader {
  int width = 0;  // stored (not EXIF-oriented) size
  int height = 0;
  int components = 0;
  bool cmyk = false;         // CMYK or YCCK: decoded as CMYK and converted by us
  int orientation = 1;       // EXIF tag 0x0112, 1..8
  bool ycbcr = false;        // three components stored as YCbCr: decode_planes() applies
  int max_h = 1, max_v = 1;  // the largest sampling factors: a chroma sample spans at most this many pixels
};

// Pixels of rows [y0, y0 + view.height) and columns [x0, x0 + view.width) of the image decoded at
// 1/denom scale.
struct DecodedRegion {
  ConstImageView view;
  int x0 = 0;
  int y0 = 0;
};

// The Y, Cb and Cr planes of a YCbCr JPEG at 1/denom, as libjpeg's raw-data output delivers them: no
// chroma upsampling, no colour conversion. Sample i of plane p covers the scaled image's pixels
// [i * scale_x[p], (i + 1) * scale_x[p]) (JPEG's centred chroma siting), and likewise down.
struct DecodedPlanes {
  ConstImageView planes[3];  // one channel each; the region's rows and columns
  double scale_x[3] = {1, 1, 1};
  double scale_y[3] = {1, 1, 1};
  int x0 = 0, y0 = 0;  // scaled image pixel where the planes start (whole iMCUs: chroma siting is kept)
};

class JpegReader {
 public:
  JpegReader();
  ~JpegReader();
  JpegReader(const JpegReader&) = delete;
  JpegReader& operator=(const JpegReader&) = delete;

  // Parses the header of `data` (which must outlive the following decode()). Throws DecodeError.
  JpegHeader read_header(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits);

  // JDCT_IFAST instead of the accurate integer IDCT for the following decodes (about 20% faster
  // full-size decoding; differences of a level or two that a downscale averages away).
  void set_fast_dct(bool fast) { fast_dct_ = fast; }

  // Size of the whole image at 1/denom (denom in 1, 2, 4, 8), after read_header().
  void scaled_size(int denom, int& width, int& height) const;

  // Decodes at 1/denom the scaled rows [y0, y1) and at least the columns [x0, x1) (libjpeg widens them
  // to whole iMCUs) into `buffer`, converted to `mode`. Truncated or corrupt data that affects these
  // rows throws DecodeError; the decoder is ready for the next read_header() either way.
  // Packed rows can be handed over as an image; Cached ones are placed so that libjpeg-turbo writes them
  // through the cache, for a caller that reads them right away.
  enum class RowLayout { Packed, Cached };
  DecodedRegion decode(int denom, PixelFormat mode, int x0, int x1, int y0, int y1, std::vector<std::uint8_t>& buffer,
                       RowLayout layout = RowLayout::Packed);

  // Decodes at 1/denom the Y, Cb and Cr planes (header().ycbcr must hold) covering at least the scaled
  // columns [x0, x1) and rows [y0, y1) of every plane's area, in whole iMCUs: rows above the region cost
  // their entropy decoding only, columns outside it and rows below it nothing more. Errors as decode().
  DecodedPlanes decode_planes(int denom, int x0, int x1, int y0, int y1, std::vector<std::uint8_t>& buffer);

  // Whether the last decode read a splice of restart intervals rather than the whole file.
  bool spliced() const { return spliced_; }

  struct State;  // libjpeg objects; defined in the .cpp

 private:
  // Points the decompressor at what decodes the scaled region [x0, x1) x [y0, y1) most cheaply: the
  // intervals covering it (jpeg_splice.hpp) when the file allows, else the whole file. Shifts the region
  // into the chosen source's coordinates and returns where that source starts in the scaled image.
  // `margin`: MCUs around the region (splice_region).
  SpliceOrigin load_source(int denom, int margin, int& x0, int& x1, int& y0, int& y1);

  std::unique_ptr<State> state_;
  JpegHeader header_;
  bool fast_dct_ = false;
  const std::uint8_t* data_ = nullptr;  // the file of read_header()
  std::size_t size_ = 0;
  JpegLayout layout_;
  RestartGrid grid_;
  std::vector<std::uint8_t> splice_;
  bool spliced_ = false;  // the decompressor holds the splice's header, not the file's
};

// This thread's reader, created on first use and reused for every image the thread decodes.
JpegReader& thread_jpeg_reader();

}  // namespace fastimg::detail
