#include <algorithm>
#include <cstdint>
#include <vector>

#include "resample.hpp"

namespace fastimg::detail {

namespace {

// Pillow's fixed point for 8-bit images: 22 fractional bits, weights rounded half away from zero.
constexpr int kPrecisionBits = 32 - 8 - 2;

std::vector<int> fixed_point(const std::vector<double>& weights) {
  std::vector<int> out(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double v = weights[i] * (1 << kPrecisionBits);
    out[i] = static_cast<int>(v < 0 ? -0.5 + v : 0.5 + v);
  }
  return out;
}

std::uint8_t clip8(std::int64_t v) {
  if (v <= 0) return 0;
  v >>= kPrecisionBits;
  return static_cast<std::uint8_t>(v > 255 ? 255 : v);
}

// Pillow's 8-bit passes. An axis: per output o, its first input `start[o]`, `count[o]` taps and weights
// k[o * taps ...].
struct Axis {
  std::vector<int> start, count, k;
  int taps;
};

// Across rows: out_row(r)[o * C + c] = sum_t in_row(r)[(start[o] + t) * C + c] * k[o][t], for `rows` rows.
template <class In, class Out>
void horizontal_pass(int rows, int outputs, int channels, const Axis& a, In in_row, Out out_row) {
  for (int r = 0; r < rows; ++r) {
    const std::uint8_t* in = in_row(r);
    std::uint8_t* out = out_row(r);
    for (int o = 0; o < outputs; ++o, out += channels) {
      const int* w = &a.k[static_cast<std::size_t>(o) * a.taps];
      const std::uint8_t* p = in + static_cast<std::ptrdiff_t>(a.start[o]) * channels;
      for (int c = 0; c < channels; ++c) {
        std::int64_t ss = 1 << (kPrecisionBits - 1);
        for (int t = 0; t < a.count[o]; ++t) ss += static_cast<std::int64_t>(p[t * channels + c]) * w[t];
        out[c] = clip8(ss);
      }
    }
  }
}

// Down columns: out_row(o)[e] = sum_t in_row(start[o] + t)[e] * k[o][t], for `elements` bytes per row.
template <class In, class Out>
void vertical_pass(int outputs, std::size_t elements, const Axis& a, In in_row, Out out_row) {
  std::vector<std::int64_t> ss(elements);
  for (int o = 0; o < outputs; ++o) {
    const int* w = &a.k[static_cast<std::size_t>(o) * a.taps];
    std::fill(ss.begin(), ss.end(), std::int64_t{1} << (kPrecisionBits - 1));
    for (int t = 0; t < a.count[o]; ++t) {
      const std::uint8_t* in = in_row(a.start[o] + t);
      for (std::size_t e = 0; e < elements; ++e) ss[e] += static_cast<std::int64_t>(in[e]) * w[t];
    }
    std::uint8_t* out = out_row(o);
    for (std::size_t e = 0; e < elements; ++e) out[e] = clip8(ss[e]);
  }
}

Axis axis(double in0, double in1, int in_size, int out_size, Filter filter, bool antialias) {
  Axis a;
  std::vector<double> weights;
  a.taps = coefficients(in0, in1, in_size, out_size, filter, antialias, a.start, a.count, weights);
  a.k = fixed_point(weights);
  return a;
}

}  // namespace

void resample_like_pillow(const ConstImageView& src, double x0, double y0, double x1, double y1, int out_width,
                          int out_height, Filter filter, bool antialias, bool height_first, float* dst) {
  Axis ax = axis(x0, x1, src.width, out_width, filter, antialias);
  Axis ay = axis(y0, y1, src.height, out_height, filter, antialias);
  const int c = src.channels;
  const std::size_t out_row = static_cast<std::size_t>(out_width) * c;
  std::vector<std::uint8_t> out(out_row * static_cast<std::size_t>(out_height));
  auto out_at = [&](int j) { return &out[static_cast<std::size_t>(j) * out_row]; };
  if (!height_first) {  // Pillow's usual order: the rows the vertical pass reads, resampled across first
    const int row0 = ay.start.front();
    int row1 = row0;
    for (int j = 0; j < out_height; ++j) row1 = std::max(row1, ay.start[j] + ay.count[j]);
    std::vector<std::uint8_t> tmp(static_cast<std::size_t>(row1 - row0) * out_row);
    auto tmp_at = [&](int r) { return &tmp[static_cast<std::size_t>(r - row0) * out_row]; };
    horizontal_pass(
        row1 - row0, out_width, c, ax, [&](int r) { return src.row(row0 + r); },
        [&](int r) { return tmp_at(row0 + r); });
    vertical_pass(out_height, out_row, ay, tmp_at, out_at);
  } else {  // Pillow 13's order when the height shrinks much more: the columns needed, resampled down first
    const int col0 = ax.start.front();
    int col1 = col0;
    for (int i = 0; i < out_width; ++i) col1 = std::max(col1, ax.start[i] + ax.count[i]);
    for (int& x : ax.start) x -= col0;
    const std::size_t tmp_row = static_cast<std::size_t>(col1 - col0) * c;
    std::vector<std::uint8_t> tmp(static_cast<std::size_t>(out_height) * tmp_row);
    auto tmp_at = [&](int j) { return &tmp[static_cast<std::size_t>(j) * tmp_row]; };
    vertical_pass(
        out_height, tmp_row, ay, [&](int y) { return src.row(y) + static_cast<std::ptrdiff_t>(col0) * c; }, tmp_at);
    horizontal_pass(out_height, out_width, c, ax, tmp_at, out_at);
  }
  for (std::size_t i = 0; i < out.size(); ++i) dst[i] = out[i];
}

}  // namespace fastimg::detail
