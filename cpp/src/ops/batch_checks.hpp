// Internal: argument checks and work splitting shared by the batch kernels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "fastimg/errors.hpp"
#include "fastimg/image_view.hpp"

namespace fastimg::detail {

inline std::string item_name(const char* role, std::size_t i) { return concat(role, " ", i); }

template <class Dst>
void check_pairs(const std::vector<ConstImageView>& src, const std::vector<Dst>& dst) {
  FASTIMG_CHECK(src.size() == dst.size(), "got ", src.size(), " inputs but ", dst.size(), " outputs");
  for (std::size_t i = 0; i < src.size(); ++i) {
    check_view(src[i], item_name("image", i).c_str());
    check_view(dst[i], item_name("output", i).c_str());
  }
}

// A band of rows [y0, y1) of item `item`: the unit of work for kernels that own their loops.
struct RowChunk {
  std::size_t item;
  int y0;
  int y1;
};

// Splits every image into bands of about `target_bytes` (at least one row) so one large image spreads
// over all threads and many small ones cost one task each.
inline std::vector<RowChunk> plan_row_chunks(const std::vector<int>& heights, const std::vector<std::size_t>& row_bytes,
                                             std::size_t target_bytes = std::size_t{1} << 20) {
  std::vector<RowChunk> chunks;
  for (std::size_t i = 0; i < heights.size(); ++i) {
    const int rows = static_cast<int>(std::max<std::size_t>(1, target_bytes / std::max<std::size_t>(1, row_bytes[i])));
    for (int y = 0; y < heights[i]; y += rows) chunks.push_back({i, y, std::min(heights[i], y + rows)});
  }
  return chunks;
}

}  // namespace fastimg::detail
