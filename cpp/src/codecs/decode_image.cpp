#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "../cv_view.hpp"
#include "exif.hpp"
#include "fastimg/decode.hpp"
#include "fastimg/errors.hpp"
#include "region_decoder.hpp"

namespace fastimg {

DecodedImage decode_image(const std::uint8_t* data, std::size_t size, const DecodeOptions& options) {
  detail::RegionDecoder& decoder = detail::thread_region_decoder();
  const detail::OpenedImage opened =
      decoder.open(data, size, options.mode, options.apply_exif_orientation, options.limits);
  const bool swap = detail::swaps_axes(opened.orientation);
  const bool may_shrink = options.min_width > 0 || options.min_height > 0 || options.max_side > 0;
  const int factor = !may_shrink ? 1 : decoder.largest_reduction([&](int, int w, int h) {
    if (swap) std::swap(w, h);
    return w >= options.min_width && h >= options.min_height &&
           (options.max_side <= 0 || std::max(w, h) >= options.max_side);
  });
  int w = 0, h = 0;
  decoder.reduced_size(factor, w, h);
  DecodedImage image = decoder.take(decoder.decode(factor, 0, w, 0, h, detail::JpegReader::RowLayout::Packed));

  if (opened.orientation != 1) {
    DecodedImage turned;
    turned.width = swap ? image.height : image.width;
    turned.height = swap ? image.width : image.height;
    turned.channels = image.channels;
    turned.pixels.resize(image.pixels.size());
    detail::apply_orientation(image.view(), turned.view(), opened.orientation);
    image = std::move(turned);
  }
  if (options.max_side > 0 && std::max(image.width, image.height) > options.max_side) {
    const double s = static_cast<double>(options.max_side) / std::max(image.width, image.height);
    DecodedImage smaller;
    smaller.width = std::max(1, static_cast<int>(std::lround(image.width * s)));
    smaller.height = std::max(1, static_cast<int>(std::lround(image.height * s)));
    smaller.channels = image.channels;
    smaller.pixels.resize(static_cast<std::size_t>(smaller.width) * smaller.height * smaller.channels);
    cv::Mat out = detail::as_mat(smaller.view());
    cv::resize(detail::as_mat(image.view()), out, out.size(), 0, 0, cv::INTER_AREA);
    image = std::move(smaller);
  }
  return image;
}

}  // namespace fastimg
