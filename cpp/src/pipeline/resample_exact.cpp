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

// One pass of Pillow's 8-bit resampling along one axis of a C-channel uint8 image: output position o of
// line l (channel c) is sum_t in(l, start[o] + t, c) * k[o][t], rounded and clipped. `at(l, p)` gives
// the first channel of input position p on line l; out_at(l, o) the output's.
template <class In, class Out>
void pillow_pass(int lines, int outputs, int channels, const std::vector<int>& start, const std::vector<int>& count,
                 const std::vector<int>& k, int taps, In at, Out out_at) {
  for (int l = 0; l < lines; ++l) {
    for (int o = 0; o < outputs; ++o) {
      const int* w = &k[static_cast<std::size_t>(o) * taps];
      std::uint8_t* out = out_at(l, o);
      for (int c = 0; c < channels; ++c) {
        std::int64_t ss = 1 << (kPrecisionBits - 1);
        for (int t = 0; t < count[o]; ++t) ss += static_cast<std::int64_t>(at(l, start[o] + t)[c]) * w[t];
        out[c] = clip8(ss);
      }
    }
  }
}

}  // namespace

void resample_like_pillow(const ConstImageView& src, double x0, double y0, double x1, double y1, int out_width,
                          int out_height, Filter filter, bool antialias, bool height_first, float* dst) {
  std::vector<int> xs, xn, ys, yn;
  std::vector<double> xw, yw;
  const int xt = coefficients(x0, x1, src.width, out_width, filter, antialias, xs, xn, xw);
  const int yt = coefficients(y0, y1, src.height, out_height, filter, antialias, ys, yn, yw);
  const std::vector<int> kx = fixed_point(xw), ky = fixed_point(yw);
  const int c = src.channels;
  // The source rows (columns) the vertical (horizontal) pass reads: the other pass computes only those.
  const int row0 = ys.front(), col0 = xs.front();
  int row1 = row0, col1 = col0;
  for (int j = 0; j < out_height; ++j) row1 = std::max(row1, ys[j] + yn[j]);
  for (int i = 0; i < out_width; ++i) col1 = std::max(col1, xs[i] + xn[i]);
  const std::size_t out_row = static_cast<std::size_t>(out_width) * c;
  std::vector<std::uint8_t> out(out_row * static_cast<std::size_t>(out_height));
  auto out_at = [&](int j, int i) {
    return &out[static_cast<std::size_t>(j) * out_row + static_cast<std::size_t>(i) * c];
  };
  if (!height_first) {  // Pillow's usual order: every row the vertical pass reads, resampled across first
    std::vector<std::uint8_t> tmp(static_cast<std::size_t>(row1 - row0) * out_row);
    pillow_pass(
        row1 - row0, out_width, c, xs, xn, kx, xt,
        [&](int r, int x) { return src.row(row0 + r) + static_cast<std::ptrdiff_t>(x) * c; },
        [&](int r, int i) { return &tmp[static_cast<std::size_t>(r) * out_row + static_cast<std::size_t>(i) * c]; });
    std::vector<int> ys_tmp(ys);
    for (int& y : ys_tmp) y -= row0;
    pillow_pass(
        out_width, out_height, c, ys_tmp, yn, ky, yt,
        [&](int i, int r) { return &tmp[static_cast<std::size_t>(r) * out_row + static_cast<std::size_t>(i) * c]; },
        [&](int i, int j) { return out_at(j, i); });
  } else {  // Pillow 13's order when the height shrinks much more: every column needed, resampled down first
    const std::size_t tmp_row = static_cast<std::size_t>(col1 - col0) * c;
    std::vector<std::uint8_t> tmp(static_cast<std::size_t>(out_height) * tmp_row);
    pillow_pass(
        col1 - col0, out_height, c, ys, yn, ky, yt,
        [&](int x, int y) { return src.row(y) + static_cast<std::ptrdiff_t>(col0 + x) * c; },
        [&](int x, int j) { return &tmp[static_cast<std::size_t>(j) * tmp_row + static_cast<std::size_t>(x) * c]; });
    std::vector<int> xs_tmp(xs);
    for (int& x : xs_tmp) x -= col0;
    pillow_pass(
        out_height, out_width, c, xs_tmp, xn, kx, xt,
        [&](int j, int x) { return &tmp[static_cast<std::size_t>(j) * tmp_row + static_cast<std::size_t>(x) * c]; },
        out_at);
  }
  for (std::size_t i = 0; i < out.size(); ++i) dst[i] = out[i];
}

}  // namespace fastimg::detail
