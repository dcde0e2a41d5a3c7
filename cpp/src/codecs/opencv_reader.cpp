#include "opencv_reader.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fastimg/errors.hpp"

namespace fastimg::detail {
namespace {

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint32_t le16(const std::uint8_t* p) { return p[0] | (std::uint32_t{p[1]} << 8); }
std::uint32_t le24(const std::uint8_t* p) { return le16(p) | (std::uint32_t{p[2]} << 16); }
std::int32_t le32s(const std::uint8_t* p) {
  return static_cast<std::int32_t>(le16(p) | (le16(p + 2) << 16));
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
    default:
      return false;
  }
}

int conversion(int channels, PixelFormat mode) {
  switch (mode) {
    case PixelFormat::RGB: return channels == 1 ? cv::COLOR_GRAY2RGB : channels == 3 ? cv::COLOR_BGR2RGB : cv::COLOR_BGRA2RGB;
    case PixelFormat::L: return channels == 1 ? -1 : channels == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY;
    case PixelFormat::RGBA: return channels == 1 ? cv::COLOR_GRAY2RGBA : channels == 3 ? cv::COLOR_BGR2RGBA : cv::COLOR_BGRA2RGBA;
  }
  return -1;
}

}  // namespace

DecodedImage decode_with_opencv(const std::uint8_t* data, std::size_t size, ImageFormat format, PixelFormat mode,
                                const DecodeLimits& limits) {
  std::int64_t w = 0, h = 0;
  if (header_size(data, size, format, w, h)) {
    if (w <= 0 || h <= 0) throw DecodeError(concat("invalid ", format_name(format), ": bad dimensions ", w, "x", h));
    if (w * h > limits.max_pixels) {
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
