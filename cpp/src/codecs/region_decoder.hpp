// Internal: one interface over every format for the pipeline: open an encoded image, then decode a
// region of it at a reduced scale (JPEG: in the DCT domain, only the rows and columns needed; other
// formats: decoded whole once, then area-reduced). One per thread.
#pragma once

#include <opencv2/core.hpp>

#include "fastimg/decode.hpp"
#include "jpeg_reader.hpp"

namespace fastimg::detail {

struct OpenedImage {
  ImageFormat format = ImageFormat::Unknown;
  int width = 0;  // stored size
  int height = 0;
  int orientation = 1;       // 1 unless EXIF orientation was asked for and present
  bool planar = false;       // a YCbCr JPEG: decode_planes() applies
  int max_h = 1, max_v = 1;  // a planar image's largest sampling factors (JpegHeader)
};

class RegionDecoder {
 public:
  // `data` must stay valid until the last decode() of this image. Throws DecodeError.
  OpenedImage open(const std::uint8_t* data, std::size_t size, PixelFormat mode, bool use_exif,
                   const DecodeLimits& limits, bool fast_dct = false);

  // The stored image's size when reduced by `factor` (1, 2, 4 or 8).
  void reduced_size(int factor, int& width, int& height);

  // The largest reduction (8, 4, 2; else 1) for which fits(factor, reduced_width, reduced_height) holds:
  // the one rule both the pipeline and decode_image use to pick a DCT scale.
  template <class Fits>
  int largest_reduction(Fits fits) {
    for (int f : {8, 4, 2}) {
      int w = 0, h = 0;
      reduced_size(f, w, h);
      if (fits(f, w, h)) return f;
    }
    return 1;
  }

  // Pixels covering at least the reduced-scale columns [x0, x1) and rows [y0, y1). JPEG rows are laid out
  // as `layout` says: Packed for take() (handed over without a copy), Cached for a caller that reads them
  // right away.
  DecodedRegion decode(int factor, int x0, int x1, int y0, int y1,
                       JpegReader::RowLayout layout = JpegReader::RowLayout::Cached);

  // A planar image's Y, Cb and Cr planes at 1/factor covering at least the reduced image's columns
  // [x0, x1) and rows [y0, y1) (JpegReader::decode_planes).
  DecodedPlanes decode_planes(int factor, int x0, int x1, int y0, int y1);

  // The pixels of `region` (from the last decode()) as an owned image, moved out of the decoder's
  // buffers when they are packed, so handing a whole decoded image to the caller costs no copy.
  DecodedImage take(const DecodedRegion& region);

 private:
  OpenedImage opened_;
  PixelFormat mode_ = PixelFormat::RGB;
  DecodedImage whole_;  // non-JPEG formats
  cv::Mat reduced_;
  int reduced_factor_ = 0;
  std::vector<std::uint8_t> buffer_;
};

RegionDecoder& thread_region_decoder();

}  // namespace fastimg::detail
