#include <opencv2/imgproc.hpp>

#include "../cv_view.hpp"
#include "batch_checks.hpp"
#include "box_reduce.hpp"
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
  // Area at whole-number factors is a block mean: our own kernel, split into row bands so that one large
  // image uses every thread; everything else is one cv::resize per image.
  std::vector<int> heights(src.size(), 1);
  std::vector<std::size_t> row_bytes(src.size(), std::size_t{1} << 30);
  std::vector<char> boxed(src.size(), 0);
  for (std::size_t i = 0; i < src.size(); ++i) {
    if (opencv_flag(interpolation, src[i], dst[i]) == cv::INTER_AREA && detail::is_whole_reduction(src[i], dst[i])) {
      boxed[i] = 1;
      heights[i] = dst[i].height;
      row_bytes[i] = src[i].row_bytes() * static_cast<std::size_t>(src[i].height / dst[i].height);
    }
  }
  const auto chunks = detail::plan_row_chunks(heights, row_bytes);
  for_each_item(static_cast<std::int64_t>(chunks.size()), resolve_num_threads(threads), [&](std::int64_t c) {
    const detail::RowChunk& chunk = chunks[static_cast<std::size_t>(c)];
    const std::size_t i = chunk.item;
    if (boxed[i]) {
      detail::box_reduce(src[i], dst[i], chunk.y0, chunk.y1);
      return;
    }
    const cv::Mat in = detail::as_mat(src[i]);
    cv::Mat out = detail::as_mat(dst[i]);
    cv::resize(in, out, out.size(), 0, 0, opencv_flag(interpolation, src[i], dst[i]));
    if (out.data != dst[i].data) throw Error(detail::concat("image ", i, ": resize reallocated its output"));
  });
}

}  // namespace fastimg
