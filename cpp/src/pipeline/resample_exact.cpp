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

}  // namespace

void resample_like_pillow(const ConstImageView& src, double x0, double y0, double x1, double y1, int out_width,
                          int out_height, Filter filter, bool antialias, float* dst) {
  std::vector<int> xs, xn, ys, yn;
  std::vector<double> xw, yw;
  const int xt = coefficients(x0, x1, src.width, out_width, filter, antialias, xs, xn, xw);
  const int yt = coefficients(y0, y1, src.height, out_height, filter, antialias, ys, yn, yw);
  const std::vector<int> kx = fixed_point(xw), ky = fixed_point(yw);
  const int c = src.channels;
  const int first = ys.front();
  int last = first;
  for (int j = 0; j < out_height; ++j) last = std::max(last, ys[j] + yn[j]);
  // Horizontal pass first, into uint8 rows, as Pillow's ImagingResample.
  const std::size_t row_len = static_cast<std::size_t>(out_width) * c;
  std::vector<std::uint8_t> tmp(static_cast<std::size_t>(last - first) * row_len);
  for (int r = first; r < last; ++r) {
    const std::uint8_t* in = src.row(r);
    std::uint8_t* out = &tmp[static_cast<std::size_t>(r - first) * row_len];
    for (int i = 0; i < out_width; ++i) {
      const int* k = &kx[static_cast<std::size_t>(i) * xt];
      for (int ch = 0; ch < c; ++ch) {
        std::int64_t ss = 1 << (kPrecisionBits - 1);
        for (int t = 0; t < xn[i]; ++t) ss += static_cast<std::int64_t>(in[(xs[i] + t) * c + ch]) * k[t];
        out[static_cast<std::size_t>(i) * c + ch] = clip8(ss);
      }
    }
  }
  for (int j = 0; j < out_height; ++j) {
    const int* k = &ky[static_cast<std::size_t>(j) * yt];
    float* out = dst + static_cast<std::size_t>(j) * row_len;
    for (std::size_t i = 0; i < row_len; ++i) {
      std::int64_t ss = 1 << (kPrecisionBits - 1);
      for (int t = 0; t < yn[j]; ++t) ss += static_cast<std::int64_t>(tmp[(ys[j] + t - first) * row_len + i]) * k[t];
      out[i] = static_cast<float>(clip8(ss));
    }
  }
}

}  // namespace fastimg::detail
