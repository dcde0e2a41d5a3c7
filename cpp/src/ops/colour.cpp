#include <opencv2/imgproc.hpp>

#include "../cv_view.hpp"
#include "batch_checks.hpp"
#include "fastimg/ops.hpp"
#include "fastimg/parallel.hpp"

namespace fastimg {
namespace {

void convert_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst, int in_channels,
                   int out_channels, int code, int threads) {
  detail::check_pairs(src, dst);
  for (std::size_t i = 0; i < src.size(); ++i) {
    FASTIMG_CHECK(src[i].channels == in_channels, "image ", i, ": expected ", in_channels, " channels, got ",
                  src[i].channels);
    FASTIMG_CHECK(dst[i].channels == out_channels && dst[i].width == src[i].width && dst[i].height == src[i].height,
                  "output ", i, ": expected ", src[i].width, "x", src[i].height, "x", out_channels);
  }
  for_each_item(static_cast<std::int64_t>(src.size()), resolve_num_threads(threads), [&](std::int64_t i) {
    cv::Mat out = detail::as_mat(dst[i]);
    cv::cvtColor(detail::as_mat(src[i]), out, code);
    if (out.data != dst[i].data) throw Error(detail::concat("image ", i, ": colour conversion reallocated its output"));
  });
}

}  // namespace

void rgb_to_rgba_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst, int threads) {
  convert_batch(src, dst, 3, 4, cv::COLOR_RGB2RGBA, threads);
}

void rgba_to_rgb_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst, int threads) {
  convert_batch(src, dst, 4, 3, cv::COLOR_RGBA2RGB, threads);
}

}  // namespace fastimg
