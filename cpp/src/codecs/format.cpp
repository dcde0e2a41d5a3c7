#include <cstring>

#include "fastimg/decode.hpp"

namespace fastimg {

ImageFormat detect_format(const std::uint8_t* d, std::size_t n) {
  auto starts = [&](const char* magic, std::size_t len, std::size_t at = 0) {
    return n >= at + len && std::memcmp(d + at, magic, len) == 0;
  };
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat::Jpeg;
  if (starts("\x89PNG\r\n\x1a\n", 8)) return ImageFormat::Png;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return ImageFormat::Webp;
  if (starts("BM", 2)) return ImageFormat::Bmp;
  if (starts("II*\0", 4) || starts("MM\0*", 4)) return ImageFormat::Tiff;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageFormat::Gif;
  if (n >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6') return ImageFormat::Pnm;
  return ImageFormat::Unknown;
}

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::Jpeg: return "JPEG";
    case ImageFormat::Png: return "PNG";
    case ImageFormat::Webp: return "WebP";
    case ImageFormat::Bmp: return "BMP";
    case ImageFormat::Tiff: return "TIFF";
    case ImageFormat::Gif: return "GIF";
    case ImageFormat::Pnm: return "PNM";
    case ImageFormat::Unknown: break;
  }
  return "unknown";
}

}  // namespace fastimg
