#include <opencv2/imgproc.hpp>

#include "../cv_view.hpp"
#include "batch_checks.hpp"
#include "fastimg/ops.hpp"
#include "fastimg/parallel.hpp"

namespace fastimg {
namespace {

int opencv_flag(Interpolation mode, const ConstImageView& src, const ImageView& dst) {
  switch (mode) {
    case Interpolation::Nearest: return cv::INTER_NEAREST;
    case Interpolation::Bilinear: return cv::INTER_LINEAR;
    case Interpolation::Bicubic: return cv::INTER_CUBIC;
    case Interpolation::Area: return cv::INTER_AREA;
    case Interpolation::Lanczos4: return cv::INTER_LANCZOS4;
    case Interpolation::Auto: break;
  }
  // Area averages every source pixel when shrinking (no aliasing); it degenerates to bilinear-like
  // weights when growing, where bilinear is the cheaper, expected choice.
  const bool shrinks = dst.width <= src.width && dst.height <= src.height;
  return shrinks ? cv::INTER_AREA : cv::INTER_LINEAR;
}

}  // namespace

void resize_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst,
                  Interpolation interpolation, int threads) {
  detail::check_pairs(src, dst);
  for (std::size_t i = 0; i < src.size(); ++i) {
    FASTIMG_CHECK(src[i].channels == dst[i].channels, "image ", i, ": output has ", dst[i].channels,
                  " channels, input has ", src[i].channels);
  }
  for_each_item(static_cast<std::int64_t>(src.size()), resolve_num_threads(threads), [&](std::int64_t i) {
    const cv::Mat in = detail::as_mat(src[i]);
    cv::Mat out = detail::as_mat(dst[i]);
    cv::resize(in, out, out.size(), 0, 0, opencv_flag(interpolation, src[i], dst[i]));
    if (out.data != dst[i].data) throw Error(detail::concat("image ", i, ": resize reallocated its output"));
  });
}

}  // namespace fastimg
