#include "resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fastimg::detail {
namespace {

// Per output position: first source index, tap count and normalised weights (Pillow's
// precompute_coeffs, with the box given in real coordinates).
int coefficients(double in0, double in1, int in_size, int out_size, bool antialias, std::vector<int>& start,
                 std::vector<int>& count, std::vector<float>& weights) {
  const double scale = (in1 - in0) / out_size;
  const double filter_scale = antialias ? std::max(scale, 1.0) : 1.0;
  const double support = filter_scale;  // the triangle's support is 1
  const int taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  start.assign(static_cast<std::size_t>(out_size), 0);
  count.assign(static_cast<std::size_t>(out_size), 0);
  weights.assign(static_cast<std::size_t>(out_size) * taps, 0.f);
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
    float* w = &weights[static_cast<std::size_t>(i) * taps];
    double total = 0;
    for (int x = lo; x < hi; ++x) {
      const double t = std::abs((x - center + 0.5) * inv);
      const double v = t < 1.0 ? 1.0 - t : 0.0;
      w[x - lo] = static_cast<float>(v);
      total += v;
    }
    if (total <= 0) {
      w[0] = 1.f;
      hi = lo + 1;
      total = 1;
    }
    for (int x = lo; x < hi; ++x) w[x - lo] = static_cast<float>(w[x - lo] / total);
    start[static_cast<std::size_t>(i)] = lo;
    count[static_cast<std::size_t>(i)] = hi - lo;
  }
  return taps;
}

template <int C>
void horizontal(const std::uint8_t* row, int out_width, const ResampleScratch& s, float* out) {
  for (int i = 0; i < out_width; ++i) {
    const float* w = &s.x_weights[static_cast<std::size_t>(i) * s.x_taps];
    const std::uint8_t* p = row + static_cast<std::ptrdiff_t>(s.x_start[static_cast<std::size_t>(i)]) * C;
    float acc[C] = {};
    const int n = s.x_count[static_cast<std::size_t>(i)];
    for (int k = 0; k < n; ++k, p += C) {
      for (int c = 0; c < C; ++c) acc[c] += w[k] * p[c];
    }
    for (int c = 0; c < C; ++c) out[i * C + c] = acc[c];
  }
}

}  // namespace

void resample_to_float(const ConstImageView& src, double x0, double y0, double x1, double y1, int out_width,
                       int out_height, bool antialias, float* dst, ResampleScratch& s) {
  s.x_taps = coefficients(x0, x1, src.width, out_width, antialias, s.x_start, s.x_count, s.x_weights);
  s.y_taps = coefficients(y0, y1, src.height, out_height, antialias, s.y_start, s.y_count, s.y_weights);
  const int first_row = s.y_start.front();
  int last_row = first_row;
  for (int j = 0; j < out_height; ++j) last_row = std::max(last_row, s.y_start[j] + s.y_count[j]);
  const int channels = src.channels;
  const std::size_t row_len = static_cast<std::size_t>(out_width) * channels;
  s.rows.resize(static_cast<std::size_t>(last_row - first_row) * row_len);
  for (int y = first_row; y < last_row; ++y) {
    float* out = &s.rows[static_cast<std::size_t>(y - first_row) * row_len];
    switch (channels) {
      case 1: horizontal<1>(src.row(y), out_width, s, out); break;
      case 3: horizontal<3>(src.row(y), out_width, s, out); break;
      default: horizontal<4>(src.row(y), out_width, s, out); break;
    }
  }
  for (int j = 0; j < out_height; ++j) {
    float* out = dst + static_cast<std::size_t>(j) * row_len;
    const float* w = &s.y_weights[static_cast<std::size_t>(j) * s.y_taps];
    const int n = s.y_count[static_cast<std::size_t>(j)];
    const float* r0 = &s.rows[static_cast<std::size_t>(s.y_start[j] - first_row) * row_len];
    for (std::size_t i = 0; i < row_len; ++i) out[i] = w[0] * r0[i];
    for (int k = 1; k < n; ++k) {
      const float* r = r0 + static_cast<std::size_t>(k) * row_len;
      const float wk = w[k];
      for (std::size_t i = 0; i < row_len; ++i) out[i] += wk * r[i];
    }
  }
}

}  // namespace fastimg::detail
