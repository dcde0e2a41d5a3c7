#include "resample.hpp"

#include <emmintrin.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fastimg::detail {
namespace {

double kernel_support(Filter filter) { return filter == Filter::Bicubic ? 2.0 : 1.0; }

double kernel(Filter filter, double x) {
  x = std::abs(x);
  if (filter == Filter::Bicubic) {  // Pillow's bicubic, a = -0.5
    constexpr double a = -0.5;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
  }
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Nearest: the source pixel under each output centre, as Pillow's NEAREST resize picks it.
template <typename W>
int nearest(double in0, double in1, int in_size, int out_size, std::vector<int>& start, std::vector<int>& count,
            std::vector<W>& weights) {
  const double scale = (in1 - in0) / out_size;
  start.assign(static_cast<std::size_t>(out_size), 0);
  count.assign(static_cast<std::size_t>(out_size), 1);
  weights.assign(static_cast<std::size_t>(out_size), W(1));
  // Pillow steps the position by `scale` and truncates (its affine nearest), so a centre that lands on a
  // whole number picks the pixel below it; accumulating the same way keeps a stretch bit-exact.
  double position = in0 + scale * 0.5;
  for (int i = 0; i < out_size; ++i, position += scale) {
    const int x = position < 0 ? 0 : static_cast<int>(position);
    start[static_cast<std::size_t>(i)] = std::min(x, in_size - 1);
  }
  return 1;
}

// Per output position: first source index, tap count and normalised weights (Pillow's
// precompute_coeffs, with the box given in real coordinates).
template <typename W>
int coefficients(double in0, double in1, int in_size, int out_size, Filter filter, bool antialias,
                 std::vector<int>& start, std::vector<int>& count, std::vector<W>& weights) {
  if (filter == Filter::Nearest) return nearest(in0, in1, in_size, out_size, start, count, weights);
  const double scale = (in1 - in0) / out_size;
  const double filter_scale = antialias ? std::max(scale, 1.0) : 1.0;
  const double support = kernel_support(filter) * filter_scale;
  const int taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  start.assign(static_cast<std::size_t>(out_size), 0);
  count.assign(static_cast<std::size_t>(out_size), 0);
  weights.assign(static_cast<std::size_t>(out_size) * taps, W(0));
  const double inv = 1.0 / filter_scale;
  for (int i = 0; i < out_size; ++i) {
    const double center = in0 + (i + 0.5) * scale;
    int lo = std::max(static_cast<int>(std::floor(center - support + 0.5)), 0);
    int hi = std::min(static_cast<int>(std::floor(center + support + 0.5)), in_size);
    if (hi <= lo) {  // centre outside the source: clamp to the nearest edge pixel
      lo = std::min(std::max(static_cast<int>(std::floor(center)), 0), in_size - 1);
      hi = lo + 1;
    }
    hi = std::min(hi, lo + taps);
    W* w = &weights[static_cast<std::size_t>(i) * taps];
    double total = 0;
    for (int x = lo; x < hi; ++x) {
      const double v = kernel(filter, (x - center + 0.5) * inv);
      w[x - lo] = static_cast<W>(v);
      total += v;
    }
    if (total == 0) {
      w[0] = W(1);
      hi = lo + 1;
      total = 1;
    }
    for (int x = lo; x < hi; ++x) w[x - lo] = static_cast<W>(w[x - lo] / total);
    start[static_cast<std::size_t>(i)] = lo;
    count[static_cast<std::size_t>(i)] = hi - lo;
  }
  return taps;
}

// Horizontal pass over one float row for 3 and 4 channels: one SSE register holds a pixel, so each tap
// is one multiply-add for all channels. Reads and stores 4 floats per pixel: `in` and `out` have one
// float of slack after the row.
template <int C>
void horizontal(const float* in, int out_width, const ResampleScratch& s, int first_column, float* out) {
  for (int i = 0; i < out_width; ++i) {
    const float* w = &s.x_weights[static_cast<std::size_t>(i) * s.x_taps];
    const float* p = in + static_cast<std::ptrdiff_t>(s.x_start[static_cast<std::size_t>(i)] - first_column) * C;
    const int n = s.x_count[static_cast<std::size_t>(i)];
    __m128 acc = _mm_setzero_ps();
    for (int k = 0; k < n; ++k, p += C) acc = _mm_add_ps(acc, _mm_mul_ps(_mm_set1_ps(w[k]), _mm_loadu_ps(p)));
    _mm_storeu_ps(out + static_cast<std::ptrdiff_t>(i) * C, acc);
  }
}

void horizontal_gray(const float* in, int out_width, const ResampleScratch& s, int first_column, float* out) {
  for (int i = 0; i < out_width; ++i) {
    const float* w = &s.x_weights[static_cast<std::size_t>(i) * s.x_taps];
    const float* p = in + (s.x_start[static_cast<std::size_t>(i)] - first_column);
    float acc = 0;
    for (int k = 0; k < s.x_count[static_cast<std::size_t>(i)]; ++k) acc += w[k] * p[k];
    out[i] = acc;
  }
}

}  // namespace

// Vertical pass over `taps` source rows of `len` bytes: out[i] = sum_k w[k] * rows[k][i]. Wide SIMD
// (u8 -> float conversion and multiply-add) where the CPU has it.
__attribute__((target_clones("avx2", "default"), noinline)) void vertical_pass(const std::uint8_t* first_row,
                                                                               std::ptrdiff_t stride, std::size_t len,
                                                                               const float* w, int taps, float* out) {
  for (std::size_t i = 0; i < len; ++i) out[i] = w[0] * static_cast<float>(first_row[i]);
  for (int k = 1; k < taps; ++k) {
    const std::uint8_t* r = first_row + k * stride;
    const float wk = w[k];
    for (std::size_t i = 0; i < len; ++i) out[i] += wk * static_cast<float>(r[i]);
  }
}

void resample_to_float(const ConstImageView& src, double x0, double y0, double x1, double y1, int out_width,
                       int out_height, Filter filter, bool antialias, float* dst, ResampleScratch& s) {
  s.x_taps = coefficients(x0, x1, src.width, out_width, filter, antialias, s.x_start, s.x_count, s.x_weights);
  s.y_taps = coefficients(y0, y1, src.height, out_height, filter, antialias, s.y_start, s.y_count, s.y_weights);
  // Columns the horizontal pass reads: the vertical pass computes only those.
  const int first_column = s.x_start.front();
  int last_column = first_column;
  for (int i = 0; i < out_width; ++i) last_column = std::max(last_column, s.x_start[i] + s.x_count[i]);
  const int channels = src.channels;
  const std::size_t span = static_cast<std::size_t>(last_column - first_column) * channels;
  s.rows.resize(span + 4);  // SIMD read slack
  const std::size_t row_len = static_cast<std::size_t>(out_width) * channels;
  s.out_row.resize(row_len + 4);  // SIMD store slack
  for (int j = 0; j < out_height; ++j) {
    const std::uint8_t* first_row = src.row(s.y_start[j]) + static_cast<std::ptrdiff_t>(first_column) * channels;
    vertical_pass(first_row, src.stride, span, &s.y_weights[static_cast<std::size_t>(j) * s.y_taps], s.y_count[j],
                  s.rows.data());
    float* out = dst + static_cast<std::size_t>(j) * row_len;
    switch (channels) {
      case 1: horizontal_gray(s.rows.data(), out_width, s, first_column, out); break;
      case 3:
        horizontal<3>(s.rows.data(), out_width, s, first_column, s.out_row.data());
        std::memcpy(out, s.out_row.data(), row_len * sizeof(float));
        break;
      default: horizontal<4>(s.rows.data(), out_width, s, first_column, out); break;
    }
  }
}

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

double filter_reach(Filter filter, bool antialias, double scale) {
  if (filter == Filter::Nearest) return 1.0;
  return kernel_support(filter) * (antialias ? std::max(scale, 1.0) : 1.0);
}

}  // namespace fastimg::detail
