#include "opencv_reader.hpp"

#include <algorithm>
#include <cctype>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fastimg/errors.hpp"

namespace fastimg::detail {
namespace {

std::uint32_t be16(const std::uint8_t* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint32_t le16(const std::uint8_t* p) { return p[0] | (std::uint32_t{p[1]} << 8); }
std::uint32_t le24(const std::uint8_t* p) { return le16(p) | (std::uint32_t{p[2]} << 16); }
std::uint32_t le32(const std::uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }
std::int32_t le32s(const std::uint8_t* p) { return static_cast<std::int32_t>(le32(p)); }

// TIFF: ImageWidth (256) and ImageLength (257) of the first IFD, the page OpenCV decodes. libtiff takes
// them from single-valued integer entries; the largest of duplicates is kept, so the size is never
// underestimated.
bool tiff_size(const std::uint8_t* d, std::size_t n, std::int64_t& w, std::int64_t& h) {
  if (n < 8) return false;
  const bool little = d[0] == 'I';
  auto u16 = [&](std::size_t at) { return little ? le16(d + at) : be16(d + at); };
  auto u32 = [&](std::size_t at) { return little ? le32(d + at) : be32(d + at); };
  const std::size_t ifd = u32(4);
  if (ifd > n || n - ifd < 2) return false;
  const std::size_t entries = u16(ifd);
  w = h = -1;
  for (std::size_t i = 0; i < entries && ifd + 2 + 12 * (i + 1) <= n; ++i) {
    const std::size_t at = ifd + 2 + 12 * i;
    const std::uint32_t tag = u16(at), type = u16(at + 2);
    if ((tag != 256 && tag != 257) || u32(at + 4) != 1) continue;
    std::int64_t value;
    if (type == 1 || type == 6) {  // (S)BYTE
      value = d[at + 8];
    } else if (type == 3 || type == 8) {  // (S)SHORT
      value = u16(at + 8);
    } else if (type == 4 || type == 9) {  // (S)LONG
      value = u32(at + 8);
    } else if (type >= 16 && type <= 18) {  // (S)LONG8, IFD8: 8 bytes at an offset
      const std::size_t offset = u32(at + 8);
      if (offset > n || n - offset < 8) continue;
      const std::uint32_t high = u32(offset + (little ? 4 : 0)), low = u32(offset + (little ? 0 : 4));
      value = high != 0 ? INT64_C(1) << 40 : static_cast<std::int64_t>(low);
    } else {
      continue;
    }
    std::int64_t& size = tag == 256 ? w : h;
    size = std::max(size, value);
  }
  return w >= 0 && h >= 0;
}

// PNM (P1..P6): the ASCII width and height after the magic, read as OpenCV does: whitespace and '#'
// comments to the end of the line may come before each number, and the byte after a number ends it
// whatever it is ("2x2" and "2\0" "2" are 2 by 2).
bool pnm_size(const std::uint8_t* d, std::size_t n, std::int64_t& w, std::int64_t& h) {
  std::size_t at = 2;
  auto number = [&](std::int64_t& value) {
    while (at < n && !std::isdigit(d[at])) {
      if (d[at] == '#') {
        while (at < n && d[at] != '\n' && d[at] != '\r') ++at;
      } else if (std::isspace(d[at])) {
        ++at;
      } else {
        return false;
      }
    }
    if (at >= n) return false;
    value = 0;
    for (; at < n && std::isdigit(d[at]); ++at) {
      value = std::min<std::int64_t>(value * 10 + (d[at] - '0'), INT64_C(1) << 40);
    }
    ++at;  // the terminating byte
    return true;
  };
  return number(w) && number(h);
}

// The stored size from the header, where it is cheap to read, so the pixel limit is enforced before
// any decoding memory is allocated. Returns false when the header does not say.
bool header_size(const std::uint8_t* d, std::size_t n, ImageFormat format, std::int64_t& w, std::int64_t& h) {
  switch (format) {
    case ImageFormat::Png:
      if (n < 24 || std::string(reinterpret_cast<const char*>(d + 12), 4) != "IHDR") return false;
      w = be32(d + 16);
      h = be32(d + 20);
      return true;
    case ImageFormat::Bmp:
      if (n < 26) return false;
      if (le32(d + 14) == 12) {  // OS/2 1.x BITMAPCOREHEADER: unsigned 16-bit sizes
        w = le16(d + 18);
        h = le16(d + 20);
        return true;
      }
      w = le32s(d + 18);
      h = le32s(d + 22);
      if (h < 0) h = -h;
      return true;
    case ImageFormat::Webp:
      if (n >= 30 && std::string(reinterpret_cast<const char*>(d + 12), 4) == "VP8X") {
        w = le24(d + 24) + 1;
        h = le24(d + 27) + 1;
        return true;
      }
      if (n >= 25 && std::string(reinterpret_cast<const char*>(d + 12), 4) == "VP8L") {
        const std::uint32_t bits = le16(d + 21) | (le16(d + 23) << 16);
        w = (bits & 0x3FFF) + 1;
        h = ((bits >> 14) & 0x3FFF) + 1;
        return true;
      }
      if (n >= 30 && std::string(reinterpret_cast<const char*>(d + 12), 4) == "VP8 ") {
        w = le16(d + 26) & 0x3FFF;
        h = le16(d + 28) & 0x3FFF;
        return true;
      }
      return false;
    case ImageFormat::Tiff: return tiff_size(d, n, w, h);
    case ImageFormat::Pnm: return pnm_size(d, n, w, h);
    default: return false;
  }
}

int conversion(int channels, PixelFormat mode) {
  switch (mode) {
    case PixelFormat::RGB:
      return channels == 1 ? cv::COLOR_GRAY2RGB : channels == 3 ? cv::COLOR_BGR2RGB : cv::COLOR_BGRA2RGB;
    case PixelFormat::L: return channels == 1 ? -1 : channels == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY;
    case PixelFormat::RGBA:
      return channels == 1 ? cv::COLOR_GRAY2RGBA : channels == 3 ? cv::COLOR_BGR2RGBA : cv::COLOR_BGRA2RGBA;
  }
  return -1;
}

}  // namespace

DecodedImage decode_with_opencv(const std::uint8_t* data, std::size_t size, ImageFormat format, PixelFormat mode,
                                const DecodeLimits& limits) {
  std::int64_t w = 0, h = 0;
  if (header_size(data, size, format, w, h)) {
    if (w <= 0 || h <= 0) throw DecodeError(concat("invalid ", format_name(format), ": bad dimensions ", w, "x", h));
    if (w > limits.max_pixels / h) {  // w * h > max_pixels, without overflow (PNG sizes reach 2^32 - 1)
      throw DecodeError(concat("image too large: ", w, "x", h, " exceeds the limit of ", limits.max_pixels, " pixels"));
    }
  }
  cv::Mat decoded;
  try {
    const cv::Mat encoded(1, static_cast<int>(size), CV_8U, const_cast<std::uint8_t*>(data));
    decoded = cv::imdecode(encoded, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw DecodeError(concat("corrupt ", format_name(format), ": ", e.err));
  }
  if (decoded.empty()) {
    if (format == ImageFormat::Unknown) throw DecodeError("not an image: unrecognised format");
    throw DecodeError(concat("corrupt, truncated or unsupported ", format_name(format), " data"));
  }
  if (static_cast<std::int64_t>(decoded.cols) * decoded.rows > limits.max_pixels) {
    throw DecodeError(concat("image too large: ", decoded.cols, "x", decoded.rows, " exceeds the limit of ",
                             limits.max_pixels, " pixels"));
  }
  if (decoded.depth() == CV_16U) {
    decoded.convertTo(decoded, CV_8U, 1.0 / 257.0);
  } else if (decoded.depth() != CV_8U) {
    cv::Mat eight;
    cv::normalize(decoded, eight, 0, 255, cv::NORM_MINMAX, CV_8U);
    decoded = eight;
  }
  const int channels = decoded.channels();
  if (channels != 1 && channels != 3 && channels != 4) {
    throw DecodeError(concat("unsupported ", format_name(format), ": ", channels, " channels"));
  }
  DecodedImage out;
  out.width = decoded.cols;
  out.height = decoded.rows;
  out.channels = channels_of(mode);
  out.pixels.resize(static_cast<std::size_t>(out.width) * out.height * out.channels);
  cv::Mat dst(out.height, out.width, CV_8UC(out.channels), out.pixels.data());
  const int code = conversion(channels, mode);
  if (code < 0) {
    decoded.copyTo(dst);
  } else {
    cv::cvtColor(decoded, dst, code);
  }
  return out;
}

}  // namespace fastimg::detail
