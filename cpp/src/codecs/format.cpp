#include <cstring>

#include "fastimg/decode.hpp"
#include "format_reader.hpp"

namespace fastimg {

ImageFormat detect_format(const std::uint8_t* d, std::size_t n) {
  auto starts = [&](const char* magic, std::size_t len, std::size_t at = 0) {
    return n >= at + len && std::memcmp(d + at, magic, len) == 0;
  };
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat::Jpeg;
  if (starts("\x89PNG\r\n\x1a\n", 8)) return ImageFormat::Png;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return ImageFormat::Webp;
  if (starts("BM", 2)) return ImageFormat::Bmp;
  if (starts("II*\0", 4) || starts("MM\0*", 4) || starts("II+\0", 4) || starts("MM\0+", 4)) return ImageFormat::Tiff;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageFormat::Gif;
  if (n >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7') return ImageFormat::Pnm;
  return ImageFormat::Unknown;
}

namespace detail {

const char* unsupported_format(const std::uint8_t* d, std::size_t n) {
  auto at = [&](std::size_t offset, const char* magic, std::size_t len) {
    return n >= offset + len && std::memcmp(d + offset, magic, len) == 0;
  };
  if (at(0, "\0\0\1\0", 4) && n >= 6 && d[4] + d[5] > 0) return "ICO";
  if (at(0, "\0\0\2\0", 4) && n >= 6 && d[4] + d[5] > 0) return "CUR";
  if (at(0, "\0\0\0\x0cjP  \r\n\x87\n", 12) || at(0, "\xff\x4f\xff\x51", 4)) return "JPEG 2000";
  if (at(4, "ftypavif", 8) || at(4, "ftypavis", 8)) return "AVIF";
  if (at(4, "ftypheic", 8) || at(4, "ftypheix", 8) || at(4, "ftypmif1", 8) || at(4, "ftyphevc", 8)) return "HEIF";
  if (at(0, "\xff\x0a", 2) || at(0, "\0\0\0\x0cJXL \r\n\x87\n", 12)) return "JPEG XL";
  if (at(0, "8BPS", 4)) return "PSD";
  if (at(0, "qoif", 4)) return "QOI";
  if (at(0, "DDS ", 4)) return "DDS";
  if (at(0, "\x76\x2f\x31\x01", 4)) return "OpenEXR";
  if (at(0, "#?RADIANCE", 10) || at(0, "#?RGBE", 6)) return "Radiance HDR";
  if (at(0, "%PDF", 4)) return "PDF";
  if (at(0, "II\x2b\0", 4) || at(0, "MM\0\x2b", 4)) return nullptr;  // BigTIFF: detected as TIFF
  if (at(0, "\x0a", 1) && n >= 4 && d[1] <= 5 && d[2] == 1) return "PCX";
  if (at(0, "\x59\xa6\x6a\x95", 4)) return "Sun Raster";
  if (at(0, "P7", 2)) return nullptr;
  if (at(0, "<svg", 4) || at(0, "<?xml", 5)) return "SVG";
  return nullptr;
}

}  // namespace detail

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
