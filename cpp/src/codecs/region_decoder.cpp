#include "region_decoder.hpp"

#include <cstring>
#include <opencv2/imgproc.hpp>

#include "../cv_view.hpp"
#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {

OpenedImage RegionDecoder::open(const std::uint8_t* data, std::size_t size, PixelFormat mode, bool use_exif,
                                const DecodeLimits& limits, bool fast_dct) {
  if (size == 0) throw DecodeError("empty input (0 bytes)");
  opened_ = OpenedImage{};
  mode_ = mode;
  reduced_factor_ = 0;
  opened_.format = detect_format(data, size);
  if (opened_.format == ImageFormat::Jpeg) {
    JpegReader& reader = thread_jpeg_reader();
    reader.set_fast_dct(fast_dct);
    const JpegHeader h = reader.read_header(data, size, limits);
    opened_.width = h.width;
    opened_.height = h.height;
    opened_.orientation = use_exif ? h.orientation : 1;
    opened_.planar = h.ycbcr && mode == PixelFormat::RGB;
    opened_.max_h = h.max_h;
    opened_.max_v = h.max_v;
    return opened_;
  }
  if (opened_.format == ImageFormat::Unknown) {
    if (const char* other = unsupported_format(data, size)) throw DecodeError(concat("unsupported format: ", other));
    throw DecodeError(size < 16 ? concat("not an image: only ", size, " bytes") : "not an image: unrecognised format");
  }
  int orientation = 0;
  whole_ = to_mode(decode_first_frame(data, size, opened_.format, limits, orientation), mode);
  opened_.width = whole_.width;
  opened_.height = whole_.height;
  opened_.orientation = use_exif && orientation != 0 ? orientation : 1;
  return opened_;
}

void RegionDecoder::reduced_size(int factor, int& width, int& height) {
  if (opened_.format == ImageFormat::Jpeg) {
    thread_jpeg_reader().scaled_size(factor, width, height);
    return;
  }
  width = (opened_.width + factor - 1) / factor;
  height = (opened_.height + factor - 1) / factor;
}

DecodedRegion RegionDecoder::decode(int factor, int x0, int x1, int y0, int y1, JpegReader::RowLayout layout) {
  if (opened_.format == ImageFormat::Jpeg) {
    return thread_jpeg_reader().decode(factor, mode_, x0, x1, y0, y1, buffer_, layout);
  }
  DecodedRegion r;
  ConstImageView full = whole_.view();
  if (factor > 1) {
    if (reduced_factor_ != factor) {
      int w = 0, h = 0;
      reduced_size(factor, w, h);
      // Area averaging over factor x factor blocks is the box prefilter a DCT-domain reduction
      // approximates. Replicating the edge to whole blocks keeps reduced pixel i on stored pixels
      // [i * factor, (i + 1) * factor), the same grid as libjpeg's scaled output.
      cv::Mat padded = as_mat(full);
      if (w * factor != full.width || h * factor != full.height) {
        cv::copyMakeBorder(padded, padded, 0, h * factor - full.height, 0, w * factor - full.width,
                           cv::BORDER_REPLICATE);
      }
      cv::resize(padded, reduced_, cv::Size(w, h), 0, 0, cv::INTER_AREA);
      reduced_factor_ = factor;
    }
    full = {reduced_.data, reduced_.cols, reduced_.rows, reduced_.channels(),
            static_cast<std::ptrdiff_t>(reduced_.step)};
  }
  r.x0 = x0;
  r.y0 = y0;
  r.view = {full.row(y0) + static_cast<std::ptrdiff_t>(x0) * full.channels, x1 - x0, y1 - y0, full.channels,
            full.stride};
  return r;
}

DecodedPlanes RegionDecoder::decode_planes(int factor, int x0, int x1, int y0, int y1) {
  return thread_jpeg_reader().decode_planes(factor, x0, x1, y0, y1, buffer_);
}

DecodedImage RegionDecoder::take(const DecodedRegion& region) {
  const ConstImageView& v = region.view;
  DecodedImage out;
  out.width = v.width;
  out.height = v.height;
  out.channels = v.channels;
  const std::size_t bytes = v.row_bytes() * static_cast<std::size_t>(v.height);
  const bool packed = v.stride == static_cast<std::ptrdiff_t>(v.row_bytes());
  if (packed && !buffer_.empty() && v.data == buffer_.data()) {
    buffer_.resize(bytes);
    out.pixels = std::move(buffer_);
    buffer_ = {};
  } else if (packed && !whole_.pixels.empty() && v.data == whole_.pixels.data()) {
    out.pixels = std::move(whole_.pixels);
    whole_ = {};
  } else {
    out.pixels.resize(bytes);
    for (int y = 0; y < v.height; ++y) std::memcpy(out.pixels.data() + y * v.row_bytes(), v.row(y), v.row_bytes());
  }
  return out;
}

RegionDecoder& thread_region_decoder() {
  thread_local RegionDecoder decoder;
  return decoder;
}

}  // namespace fastimg::detail
