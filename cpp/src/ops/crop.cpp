#include <cstring>

#include "batch_checks.hpp"
#include "fastimg/ops.hpp"
#include "fastimg/parallel.hpp"
#include "fastimg/random.hpp"

namespace fastimg {

void crop_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst,
                const std::vector<Box>& regions, int threads) {
  detail::check_pairs(src, dst);
  FASTIMG_CHECK(regions.size() == src.size(), "got ", src.size(), " images but ", regions.size(), " boxes");
  std::vector<int> heights(src.size());
  std::vector<std::size_t> row_bytes(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    const Box& r = regions[i];
    FASTIMG_CHECK(r.width == dst[i].width && r.height == dst[i].height, "image ", i, ": box is ", r.width, "x",
                  r.height, " but the output is ", dst[i].width, "x", dst[i].height);
    FASTIMG_CHECK(src[i].channels == dst[i].channels, "image ", i, ": output has ", dst[i].channels,
                  " channels, input has ", src[i].channels);
    FASTIMG_CHECK(r.x >= 0 && r.y >= 0 && r.width > 0 && r.height > 0 &&
                      static_cast<long long>(r.x) + r.width <= src[i].width &&
                      static_cast<long long>(r.y) + r.height <= src[i].height,
                  "image ", i, ": box (x=", r.x, ", y=", r.y, ", width=", r.width, ", height=", r.height,
                  ") does not fit in the ", src[i].width, "x", src[i].height, " image");
    heights[i] = r.height;
    row_bytes[i] = dst[i].row_bytes();
  }
  const auto chunks = detail::plan_row_chunks(heights, row_bytes);
  parallel_for(static_cast<std::int64_t>(chunks.size()), resolve_num_threads(threads), [&](std::int64_t c) {
    const detail::RowChunk& chunk = chunks[static_cast<std::size_t>(c)];
    const ConstImageView& in = src[chunk.item];
    const ImageView& out = dst[chunk.item];
    const Box& r = regions[chunk.item];
    const std::size_t offset = static_cast<std::size_t>(r.x) * static_cast<std::size_t>(in.channels);
    for (int y = chunk.y0; y < chunk.y1; ++y) std::memcpy(out.row(y), in.row(r.y + y) + offset, out.row_bytes());
  });
}

std::vector<Box> random_crop_boxes(const std::vector<ConstImageView>& src, const std::vector<Box>& sizes,
                                   std::uint64_t seed) {
  FASTIMG_CHECK(sizes.size() == src.size(), "got ", src.size(), " images but ", sizes.size(), " sizes");
  std::vector<Box> boxes(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    check_view(src[i], detail::item_name("image", i).c_str());
    const Box& s = sizes[i];
    FASTIMG_CHECK(s.width > 0 && s.height > 0 && s.width <= src[i].width && s.height <= src[i].height, "image ", i,
                  ": crop size ", s.width, "x", s.height, " does not fit in the ", src[i].width, "x", src[i].height,
                  " image");
    // Stream 0x63726f70 ("crop") keeps these draws independent of other per-sample randomness.
    SampleRng rng(seed, 0x63726f70, i);
    boxes[i].x = static_cast<int>(rng.uniform_int(0, src[i].width - s.width));
    boxes[i].y = static_cast<int>(rng.uniform_int(0, src[i].height - s.height));
    boxes[i].width = s.width;
    boxes[i].height = s.height;
  }
  return boxes;
}

}  // namespace fastimg
