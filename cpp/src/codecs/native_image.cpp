#include <cstring>
#include <string>

#include "exif.hpp"
#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {

void check_dimensions(std::int64_t width, std::int64_t height, const DecodeLimits& limits, const char* format) {
  if (width <= 0 || height <= 0) throw DecodeError(concat("invalid ", format, ": bad dimensions ", width, "x", height));
  if (width > limits.max_pixels / height) {  // width * height > max_pixels, without overflow
    throw DecodeError(
        concat("image too large: ", width, "x", height, " exceeds the limit of ", limits.max_pixels, " pixels"));
  }
  if (width > (1 << 30) || height > (1 << 30)) {
    throw DecodeError(concat("invalid ", format, ": bad dimensions ", width, "x", height));
  }
}

namespace {
thread_local std::string decode_warning;
}  // namespace

void record_decode_warning(const std::string& message) {
  if (decode_warning.empty()) decode_warning = message;
}

NativeImage make_native(int width, int height, int channels) {
  NativeImage out;
  out.width = width;
  out.height = height;
  out.channels = channels;
  out.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * channels);
  return out;
}

namespace {

// Pillow (TiffImagePlugin) and libtiff's RGBA interface both apply a TIFF's Orientation tag when they
// decode, so the reference pixels are upright whatever apply_exif_orientation says.
NativeImage upright_tiff(NativeImage&& image, int& orientation) {
  if (orientation <= 1 || orientation > 8) {
    orientation = 0;
    return std::move(image);
  }
  const bool swap = swaps_axes(orientation);
  NativeImage turned =
      make_native(swap ? image.height : image.width, swap ? image.width : image.height, image.channels);
  const auto stride = [](const NativeImage& im) { return static_cast<std::ptrdiff_t>(im.width) * im.channels; };
  apply_orientation({image.pixels.data(), image.width, image.height, image.channels, stride(image)},
                    {turned.pixels.data(), turned.width, turned.height, turned.channels, stride(turned)}, orientation);
  orientation = 0;
  return turned;
}

}  // namespace

NativeImage decode_first_frame(const std::uint8_t* data, std::size_t size, ImageFormat format,
                               const DecodeLimits& limits, int& orientation) {
  orientation = 0;
  switch (format) {
    case ImageFormat::Png: return decode_png(data, size, limits, orientation);
    case ImageFormat::Webp: return decode_webp(data, size, limits, orientation);
    case ImageFormat::Gif: return decode_gif(data, size, limits, orientation);
    case ImageFormat::Tiff: return upright_tiff(decode_tiff(data, size, limits, orientation), orientation);
    case ImageFormat::Bmp: return decode_bmp(data, size, limits, orientation);
    case ImageFormat::Pnm: return decode_pnm(data, size, limits, orientation);
    default: break;
  }
  throw DecodeError(concat("unsupported format: ", format_name(format)));
}

DecodedImage to_mode(NativeImage&& image, PixelFormat mode) {
  const int want = channels_of(mode);
  DecodedImage out;
  out.width = image.width;
  out.height = image.height;
  out.channels = want;
  const int have = image.channels;
  if (have == want) {
    out.pixels = std::move(image.pixels);
    return out;
  }
  const std::size_t n = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height);
  out.pixels.resize(n * want);
  const std::uint8_t* s = image.pixels.data();
  std::uint8_t* d = out.pixels.data();
  for (std::size_t i = 0; i < n; ++i, s += have, d += want) {
    const bool gray = have <= 2;
    const std::uint8_t r = s[0], g = gray ? s[0] : s[1], b = gray ? s[0] : s[2];
    const std::uint8_t a = have == 2 ? s[1] : have == 4 ? s[3] : 255;
    if (want == 1) {
      d[0] = gray ? s[0] : pillow_luma(r, g, b);
    } else {
      d[0] = r;
      d[1] = g;
      d[2] = b;
      if (want == 4) d[3] = a;
    }
  }
  return out;
}

}  // namespace fastimg::detail

namespace fastimg {

std::string take_decode_warning() {
  std::string out;
  out.swap(detail::decode_warning);
  return out;
}

}  // namespace fastimg
