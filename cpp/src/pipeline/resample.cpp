#include "resample.hpp"

#include <immintrin.h>
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

}  // namespace

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

template int coefficients<float>(double, double, int, int, Filter, bool, std::vector<int>&, std::vector<int>&,
                                 std::vector<float>&);
template int coefficients<double>(double, double, int, int, Filter, bool, std::vector<int>&, std::vector<int>&,
                                  std::vector<double>&);

namespace {

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

namespace {

void vertical_generic(const std::uint8_t* first_row, std::ptrdiff_t stride, std::size_t len, const float* w, int taps,
                      float* out) {
  for (std::size_t i = 0; i < len; ++i) out[i] = w[0] * static_cast<float>(first_row[i]);
  for (int k = 1; k < taps; ++k) {
    const std::uint8_t* r = first_row + k * stride;
    const float wk = w[k];
    for (std::size_t i = 0; i < len; ++i) out[i] += wk * static_cast<float>(r[i]);
  }
}

// Sixteen columns at a time with the sums in registers over all taps: one store per output.
__attribute__((target("avx2,fma"))) void vertical_avx2(const std::uint8_t* first_row, std::ptrdiff_t stride,
                                                       std::size_t len, const float* w, int taps, float* out) {
  std::size_t i = 0;
  for (; i + 16 <= len; i += 16) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    const std::uint8_t* r = first_row + i;
    for (int k = 0; k < taps; ++k, r += stride) {
      const __m256 wk = _mm256_set1_ps(w[k]);
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r));
      a0 = _mm256_fmadd_ps(wk, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)), a0);
      a1 = _mm256_fmadd_ps(wk, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8))), a1);
    }
    _mm256_storeu_ps(out + i, a0);
    _mm256_storeu_ps(out + i + 8, a1);
  }
  if (i < len) vertical_generic(first_row + i, stride, len - i, w, taps, out + i);
}

}  // namespace

void vertical_pass(const std::uint8_t* first_row, std::ptrdiff_t stride, std::size_t len, const float* w, int taps,
                   float* out) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) {
    vertical_avx2(first_row, stride, len, w, taps, out);
  } else {
    vertical_generic(first_row, stride, len, w, taps, out);
  }
}

void resample_to_float(const ConstImageView& src, double x0, double y0, double x1, double y1, int out_width,
                       int out_height, Filter filter, bool antialias, float* dst, ResampleScratch& s) {
  // A box of whole pixels at the output's own size: every filter puts weight 1 on the pixel under each
  // centre, so the source pixels are the answer (small images kept at their size: CIFAR, thumbnails).
  if (x0 == std::floor(x0) && y0 == std::floor(y0) && x1 - x0 == out_width && y1 - y0 == out_height && x0 >= 0 &&
      y0 >= 0 && x1 <= src.width && y1 <= src.height) {
    const std::size_t row_len = static_cast<std::size_t>(out_width) * src.channels;
    for (int j = 0; j < out_height; ++j) {
      const std::uint8_t* in = src.row(static_cast<int>(y0) + j) + static_cast<std::ptrdiff_t>(x0) * src.channels;
      float* out = dst + static_cast<std::size_t>(j) * row_len;
      for (std::size_t i = 0; i < row_len; ++i) out[i] = in[i];
    }
    return;
  }
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

double filter_reach(Filter filter, bool antialias, double scale) {
  if (filter == Filter::Nearest) return 1.0;
  return kernel_support(filter) * (antialias ? std::max(scale, 1.0) : 1.0);
}

}  // namespace fastimg::detail
