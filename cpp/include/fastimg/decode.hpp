// Decoding encoded images into owned 8-bit buffers, each format by a library made for it: JPEG by
// libjpeg-turbo, PNG by libpng, WebP by libwebp, GIF by giflib, TIFF by libtiff; BMP and PNM by small
// readers of our own. Thread-safe: each thread uses its own decoder state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fastimg/image_view.hpp"

namespace fastimg {

enum class PixelFormat { RGB, L, RGBA };  // 3, 1 and 4 channels

inline int channels_of(PixelFormat f) { return f == PixelFormat::L ? 1 : f == PixelFormat::RGB ? 3 : 4; }

enum class ImageFormat { Unknown, Jpeg, Png, Webp, Bmp, Tiff, Gif, Pnm };

// Detects the format from the leading bytes (never from a file name).
ImageFormat detect_format(const std::uint8_t* data, std::size_t size);
const char* format_name(ImageFormat format);

// Safety limits: no input may take unbounded memory or time.
struct DecodeLimits {
  std::int64_t max_pixels = std::int64_t{1} << 28;  // width * height of the stored image
  int max_scans = 500;                              // progressive JPEG scans (as TJFLAG_LIMITSCANS)
  std::size_t max_bytes = std::size_t{1} << 30;     // encoded bytes per file or buffer
  // false: deliver images with what libjpeg calls recoverable corruption (a bad Huffman code or a data
  // segment ending early, mid-scan), or a PNG ancillary chunk whose CRC fails, as Pillow and OpenCV do,
  // and report it through take_decode_warning(); truncated files stay errors. true (default): such damage
  // is a DecodeError. Either way, faults Pillow decodes past (benign PNG chunk errors, a recalculated TIFF
  // StripByteCounts) decode, reported through take_decode_warning() only under false.
  bool strict = true;
};

// Whether crops of JPEGs with suitable restart markers decode only the intervals covering them (default
// true; see `prepare.hpp`). The pixels are the same either way: off is for comparing the two, in tests and
// benchmarks. Process-wide, thread-safe.
void set_restart_splicing(bool enabled);

// The warning (recoverable corruption accepted under strict = false) of the last image this thread
// decoded, and clears it; empty when there was none.
std::string take_decode_warning();

struct DecodeOptions {
  PixelFormat mode = PixelFormat::RGB;
  int min_width = 0;  // > 0: the decoder may shrink (JPEG: in the DCT domain) while staying >= this
  int min_height = 0;
  int max_side = 0;  // > 0: the longer side of the result is at most this (aspect kept)
  bool apply_exif_orientation = false;
  DecodeLimits limits;
};

struct DecodedImage {
  std::vector<std::uint8_t> pixels;  // packed rows
  int width = 0;
  int height = 0;
  int channels = 0;

  ImageView view() { return {pixels.data(), width, height, channels, static_cast<std::ptrdiff_t>(width) * channels}; }
};

// Decodes one image. Throws DecodeError with the reason (empty, truncated, not an image, unsupported,
// too large) on failure; never exits or aborts the process.
DecodedImage decode_image(const std::uint8_t* data, std::size_t size, const DecodeOptions& options);

// Reads a whole file into `buffer` (reused across calls). Throws IoError carrying errno. direct_io: read
// with O_DIRECT (bypassing the page cache), falling back to buffered reads where the file system refuses.
// Files larger than max_bytes are refused (DecodeError) before any byte is read.
void read_file(const std::string& path, std::vector<std::uint8_t>& buffer, bool direct_io = false,
               std::size_t max_bytes = SIZE_MAX);

// Throws DecodeError when size > max_bytes.
void check_size(std::size_t size, std::size_t max_bytes);

}  // namespace fastimg
