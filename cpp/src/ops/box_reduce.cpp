#include "box_reduce.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace fastimg::detail {
namespace {

// Adds (or, for the first row of a block, copies) one row of bytes into 16-bit column sums.
__attribute__((target_clones("avx2", "default"))) void add_row(const std::uint8_t* row, std::size_t len, bool first,
                                                               std::uint16_t* sums) {
  if (first) {
    for (std::size_t i = 0; i < len; ++i) sums[i] = row[i];
  } else {
    for (std::size_t i = 0; i < len; ++i) sums[i] = static_cast<std::uint16_t>(sums[i] + row[i]);
  }
}

// window[i] = sums[i] + sums[i + step] + ... (k terms): with step = channels, window[x * kx * C + c] is the
// block sum of output pixel x, channel c. Contiguous shifted adds vectorise where a per-pixel gather would not.
// Sum is 16-bit where a block holds at most 257 pixels (twice the lanes), 32-bit otherwise.
template <class Sum>
__attribute__((target_clones("avx2", "default"))) void add_shifted(const std::uint16_t* sums, std::size_t len, int k,
                                                                   std::size_t step, Sum* window) {
  for (std::size_t i = 0; i < len; ++i) window[i] = sums[i];
  for (int t = 1; t < k; ++t) {
    const std::uint16_t* shifted = sums + static_cast<std::size_t>(t) * step;
    for (std::size_t i = 0; i < len; ++i) window[i] = static_cast<Sum>(window[i] + shifted[i]);
  }
}

template <class Sum>
__attribute__((target_clones("avx2", "default"))) void scale_to_bytes(const Sum* block_sums, std::size_t len,
                                                                      float inv_area, std::uint8_t* out) {
  for (std::size_t i = 0; i < len; ++i)
    out[i] = static_cast<std::uint8_t>(static_cast<float>(block_sums[i]) * inv_area + 0.5f);
}

template <class Sum>
void reduce_rows(const ConstImageView& src, const ImageView& dst, int y0, int y1) {
  const int kx = src.width / dst.width, ky = src.height / dst.height, c = src.channels;
  const std::size_t row_len = static_cast<std::size_t>(src.width) * c;
  const std::size_t out_len = static_cast<std::size_t>(dst.width) * c;
  // Window sums are needed up to the last block's start; the picked block sums are packed after them.
  const std::size_t window_len = row_len - static_cast<std::size_t>(kx - 1) * c;
  thread_local std::vector<std::uint16_t> sums;
  thread_local std::vector<Sum> window;
  sums.resize(row_len);
  window.resize(window_len + out_len);
  Sum* picked = window.data() + window_len;
  const float inv_area = 1.0f / static_cast<float>(kx * ky);
  for (int y = y0; y < y1; ++y) {
    for (int k = 0; k < ky; ++k) add_row(src.row(y * ky + k), row_len, k == 0, sums.data());
    add_shifted(sums.data(), window_len, kx, static_cast<std::size_t>(c), window.data());
    for (int x = 0; x < dst.width; ++x)
      for (int ch = 0; ch < c; ++ch) picked[x * c + ch] = window[static_cast<std::size_t>(x) * kx * c + ch];
    scale_to_bytes(picked, out_len, inv_area, dst.row(y));
  }
}

}  // namespace

bool is_whole_reduction(const ConstImageView& src, const ImageView& dst) {
  if (dst.width <= 0 || dst.height <= 0 || src.channels != dst.channels) return false;
  if (src.width % dst.width != 0 || src.height % dst.height != 0) return false;
  const int kx = src.width / dst.width, ky = src.height / dst.height;
  // 16-bit column sums hold up to 257 rows of 255 (block sums are 32-bit).
  return (kx > 1 || ky > 1) && ky <= 257 && src.channels >= 1 && src.channels <= 4;
}

void box_reduce(const ConstImageView& src, const ImageView& dst, int y0, int y1) {
  const int area = (src.width / dst.width) * (src.height / dst.height);
  if (area <= 257) {
    reduce_rows<std::uint16_t>(src, dst, y0, y1);
  } else {
    reduce_rows<std::uint32_t>(src, dst, y0, y1);
  }
}

}  // namespace fastimg::detail
