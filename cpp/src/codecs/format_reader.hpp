// Internal: the contract every non-JPEG decoder keeps (PNG, WebP, GIF, TIFF, BMP, PNM), one file each.
//
// A decoder reads the first frame of `data` and returns it as 8-bit samples in the layout it has
// natively (gray, gray+alpha, RGB or RGBA); to_mode() turns that into what the caller asked for, the way
// Pillow's Image.convert does (alpha dropped, gray replicated, L = ITU-R 601-2 luma). Rules:
//   - Pixels match Pillow's Image.open(f).convert("RGB") within 1 level, or the decoder throws
//     DecodeError("unsupported <FORMAT>: <variant>") -- never wrong pixels.
//   - 16-bit samples become 8 bits by keeping the high byte (>> 8), as Pillow does for RGB(A) and
//     OpenCV for everything (Pillow clips 16-bit gray instead: a documented difference).
//   - The stored size is read from the header and checked against limits.max_pixels before any pixel
//     memory is allocated; errors the codec library reports on damaged data are
//     DecodeError("corrupt <FORMAT>: <library message>") or "truncated <FORMAT>: ...". Faults after
//     which the library still delivers Pillow's pixels (libpng's benign errors in ancillary chunks,
//     libtiff's recalculated StripByteCounts) decode, with a warning under limits.strict = false.
//   - Orientation: `orientation` receives the EXIF orientation 1..8 when the file carries one (0 when
//     not); decoders never rotate pixels themselves.
//   - Thread-safe: no shared mutable state (each call owns its codec objects; every handle frees itself
//     on every path, errors included).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fastimg/decode.hpp"

namespace fastimg::detail {

// Native 8-bit pixels of a decoded frame: channels 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA),
// packed rows of width * channels bytes.
struct NativeImage {
  std::vector<std::uint8_t> pixels;
  int width = 0;
  int height = 0;
  int channels = 0;
};

// Pillow's L from RGB: (R * 299 + G * 587 + B * 114) / 1000, rounded, in its fixed-point form.
inline std::uint8_t pillow_luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}

// Throws DecodeError("image too large: WxH exceeds the limit of N pixels") or "invalid <name>: bad
// dimensions" before anything is allocated for a width x height image.
void check_dimensions(std::int64_t width, std::int64_t height, const DecodeLimits& limits, const char* format);

// Allocates pixels for width x height x channels (after check_dimensions).
NativeImage make_native(int width, int height, int channels);

// Converts to `mode` as Pillow's convert does; moves the buffer when nothing changes.
DecodedImage to_mode(NativeImage&& image, PixelFormat mode);

// The decoder for `format` (not JPEG, not Unknown).
NativeImage decode_first_frame(const std::uint8_t* data, std::size_t size, ImageFormat format,
                               const DecodeLimits& limits, int& orientation);

// The name of a recognised image format fastimg does not decode (ICO, JPEG 2000, AVIF, ...), or nullptr.
const char* unsupported_format(const std::uint8_t* data, std::size_t size);

NativeImage decode_png(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation);
NativeImage decode_webp(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation);
NativeImage decode_gif(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation);
NativeImage decode_tiff(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation);
NativeImage decode_bmp(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation);
NativeImage decode_pnm(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation);

// Sets the warning take_decode_warning() returns for the image this thread is decoding (the first one
// recorded wins).
void record_decode_warning(const std::string& message);

// Orientation 1..8 from a TIFF-structured EXIF block (with or without the "Exif\0\0" prefix), or 0.
int exif_block_orientation(const std::uint8_t* data, std::size_t size);

// Orientation 1..8 from an XMP packet's tiff:Orientation (Pillow's rule: tiff:Orientation="N" or
// <tiff:Orientation>N), or 0.
int xmp_orientation(const char* xmp, std::size_t size);

}  // namespace fastimg::detail
