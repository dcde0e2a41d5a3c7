#include <algorithm>
#include <array>
#include <cstring>

#include "batch_checks.hpp"
#include "fastimg/ops.hpp"
#include "fastimg/parallel.hpp"

namespace fastimg {
namespace detail {

// Adds `blocks` consecutive kBlock-byte blocks lane-wise into 16-bit accumulators. Built twice (AVX2 and
// baseline) and picked at load time, so the wheel stays portable and modern CPUs get wide adds.
template <int kBlock>
[[gnu::always_inline]] inline void add_blocks(const std::uint8_t* p, std::size_t blocks, std::uint16_t* acc) {
  // A local copy: `p` is a byte pointer and may alias `acc` as far as the compiler knows.
  std::uint16_t local[kBlock];
  for (int j = 0; j < kBlock; ++j) local[j] = acc[j];
  for (std::size_t k = 0; k < blocks; ++k, p += kBlock) {
    for (int j = 0; j < kBlock; ++j) local[j] = static_cast<std::uint16_t>(local[j] + p[j]);
  }
  for (int j = 0; j < kBlock; ++j) acc[j] = local[j];
}

__attribute__((target_clones("avx2", "default"), noinline)) void add_blocks_48(const std::uint8_t* p,
                                                                               std::size_t blocks, std::uint16_t* acc) {
  add_blocks<48>(p, blocks, acc);
}

__attribute__((target_clones("avx2", "default"), noinline)) void add_blocks_64(const std::uint8_t* p,
                                                                               std::size_t blocks, std::uint16_t* acc) {
  add_blocks<64>(p, blocks, acc);
}

}  // namespace detail

namespace {

using ChannelSums = std::array<std::uint64_t, 4>;

// Sums each channel over rows [y0, y1). Bytes are added lane-wise into 16-bit accumulators over blocks
// whose length is a multiple of the channel count (so lane j always holds channel j % C). 256 blocks of
// at most 255 fit in 16 bits.
template <int C>
ChannelSums channel_sums(const ConstImageView& v, int y0, int y1) {
  constexpr int kBlock = (C == 3) ? 48 : 64;
  constexpr int kMaxBlocks = 256;
  alignas(64) std::uint16_t acc[kBlock] = {};
  std::uint64_t lane_totals[kBlock] = {};
  ChannelSums sums{};
  int pending = 0;
  auto flush = [&] {
    for (int j = 0; j < kBlock; ++j) {
      lane_totals[j] += acc[j];
      acc[j] = 0;
    }
    pending = 0;
  };
  const std::size_t n = v.row_bytes();
  const std::size_t blocks = n / kBlock;
  for (int y = y0; y < y1; ++y) {
    const std::uint8_t* row = v.row(y);
    for (std::size_t b = 0; b < blocks;) {
      const std::size_t group = std::min<std::size_t>(blocks - b, static_cast<std::size_t>(kMaxBlocks - pending));
      if constexpr (kBlock == 48) {
        detail::add_blocks_48(row + b * kBlock, group, acc);
      } else {
        detail::add_blocks_64(row + b * kBlock, group, acc);
      }
      b += group;
      pending += static_cast<int>(group);
      if (pending == kMaxBlocks) flush();
    }
    for (std::size_t k = blocks * kBlock; k < n; ++k) sums[k % C] += row[k];
  }
  flush();
  for (int j = 0; j < kBlock; ++j) sums[j % C] += lane_totals[j];
  return sums;
}

ChannelSums channel_sums(const ConstImageView& v, int y0, int y1) {
  switch (v.channels) {
    case 1: return channel_sums<1>(v, y0, y1);
    case 3: return channel_sums<3>(v, y0, y1);
    default: return channel_sums<4>(v, y0, y1);
  }
}

}  // namespace

std::vector<double> luminance_batch(const std::vector<ConstImageView>& src, int threads) {
  std::vector<int> heights(src.size());
  std::vector<std::size_t> row_bytes(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    check_view(src[i], detail::item_name("image", i).c_str());
    heights[i] = src[i].height;
    row_bytes[i] = src[i].row_bytes();
  }
  const auto chunks = detail::plan_row_chunks(heights, row_bytes);
  std::vector<ChannelSums> partial(chunks.size());
  parallel_for(static_cast<std::int64_t>(chunks.size()), resolve_num_threads(threads), [&](std::int64_t c) {
    const detail::RowChunk& chunk = chunks[static_cast<std::size_t>(c)];
    partial[static_cast<std::size_t>(c)] = channel_sums(src[chunk.item], chunk.y0, chunk.y1);
  });

  std::vector<ChannelSums> totals(src.size(), ChannelSums{});
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    for (int k = 0; k < 4; ++k) totals[chunks[c].item][k] += partial[c][k];
  }
  std::vector<double> means(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    const double pixels = static_cast<double>(src[i].width) * static_cast<double>(src[i].height);
    const ChannelSums& s = totals[i];
    // Integer weights in thousandths keep the numerator exact; one division rounds once.
    const std::uint64_t weighted = src[i].channels == 1 ? s[0] * 1000 : 299 * s[0] + 587 * s[1] + 114 * s[2];
    means[i] = static_cast<double>(weighted) / (1000.0 * pixels);
  }
  return means;
}

}  // namespace fastimg
