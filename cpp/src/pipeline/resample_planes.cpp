#include <immintrin.h>
#include <algorithm>
#include <cstring>

#include "resample.hpp"

namespace fastimg::detail {
namespace {

// Folds the decoder's chroma upsampling into the weights, so that a plane resamples as the RGB image
// Pillow (libjpeg) would have made from it: an upsampled pixel x is a fixed mix of plane samples (factor
// 2: libjpeg's "fancy" triangle, 3/4 of the sample under x and 1/4 of its neighbour on x's side; other
// factors: replication), so weights over image pixels become weights over plane samples.
int fold_upsampling(int factor, int plane_size, int out_size, int taps, std::vector<int>& start,
                    std::vector<int>& count, std::vector<float>& weights, std::vector<float>& folded) {
  const int folded_taps = taps / factor + 4;
  folded.assign(static_cast<std::size_t>(out_size) * folded_taps, 0.f);
  auto clamp = [&](int m) { return std::min(std::max(m, 0), plane_size - 1); };
  for (int i = 0; i < out_size; ++i) {
    const int lo = start[i];
    const int first = std::max(0, lo / factor - 1);
    const float* w = &weights[static_cast<std::size_t>(i) * taps];
    float* f = &folded[static_cast<std::size_t>(i) * folded_taps];
    int used = 1;
    for (int k = 0; k < count[i]; ++k) {
      const int x = lo + k, m = clamp(x / factor);
      if (factor == 2) {
        const int other = clamp(x % 2 == 0 ? m - 1 : m + 1);
        f[m - first] += 0.75f * w[k];
        f[other - first] += 0.25f * w[k];
        used = std::max(used, std::max(m, other) - first + 1);
      } else {
        f[m - first] += w[k];
        used = std::max(used, m - first + 1);
      }
    }
    start[i] = first;
    count[i] = used;
  }
  weights.swap(folded);
  return folded_taps;
}

// Per-output coefficients for one axis of a plane whose samples each cover `factor` image pixels.
int plane_coefficients(double in0, double in1, int image_size, int plane_size, double factor, int out_size,
                       Filter filter, bool antialias, std::vector<int>& start, std::vector<int>& count,
                       std::vector<float>& weights, std::vector<float>& folded) {
  const int whole = static_cast<int>(factor);
  if (whole == factor && (whole == 2 || whole == 4)) {
    const int taps = coefficients(in0, in1, image_size, out_size, filter, antialias, start, count, weights);
    return fold_upsampling(whole, plane_size, out_size, taps, start, count, weights, folded);
  }
  return coefficients(in0 / factor, in1 / factor, plane_size, out_size, filter, antialias, start, count, weights);
}

// The same image sizes and output grid come back batch after batch (fixed-size resizes, centre crops):
// each thread keeps the last few axes' coefficients rather than recomputing them per plane and item.
struct AxisKey {
  double in0, in1, factor;
  int image_size, plane_size, out_size;
  Filter filter;
  bool antialias;
  bool operator==(const AxisKey& o) const {
    return in0 == o.in0 && in1 == o.in1 && factor == o.factor && image_size == o.image_size &&
           plane_size == o.plane_size && out_size == o.out_size && filter == o.filter && antialias == o.antialias;
  }
};

struct AxisCoefficients {
  AxisKey key{};
  bool valid = false;
  int taps = 0;
  std::vector<int> start, count;
  std::vector<float> weights;
  // For the eight-output kernel: per group of 8 outputs, its longest count, and the weights interleaved
  // (tap k of the 8 outputs side by side, zero past an output's count); per output, its first column's
  // distance in transposed floats (8 per column) from the group's first output's.
  std::vector<int> group_count, group_offsets;
  std::vector<float> group_weights;
};

void group_coefficients(AxisCoefficients& e) {
  const std::size_t out = e.start.size(), taps = static_cast<std::size_t>(e.taps);
  e.group_count.assign(out / 8, 0);
  e.group_offsets.assign(out, 0);
  e.group_weights.assign(out / 8 * 8 * taps, 0.f);
  for (std::size_t g = 0; g < out / 8; ++g) {
    int n = 0;
    for (std::size_t q = 0; q < 8; ++q) n = std::max(n, e.count[8 * g + q]);
    e.group_count[g] = n;
    for (std::size_t q = 0; q < 8; ++q) {
      const std::size_t i = 8 * g + q;
      e.group_offsets[i] = 8 * (e.start[i] - e.start[8 * g]);
      for (int k = 0; k < e.count[i]; ++k) e.group_weights[8 * g * taps + 8 * k + q] = e.weights[i * taps + k];
    }
  }
}

// The coefficients for `k`, computed into the cache on a miss; the entry stays valid until the next call
// that misses, which never reuses `keep`'s slot (an axis the caller still reads).
const AxisCoefficients& cached_coefficients(const AxisKey& k, const AxisCoefficients* keep = nullptr) {
  constexpr std::size_t kEntries = 16;  // Y and chroma, x and y, for a handful of image sizes
  thread_local std::vector<AxisCoefficients> cache(kEntries);
  thread_local std::vector<float> folded;
  thread_local std::size_t next = 0;
  for (const AxisCoefficients& e : cache) {
    if (e.valid && e.key == k) return e;
  }
  if (&cache[next] == keep) next = (next + 1) % kEntries;
  AxisCoefficients& e = cache[next];
  next = (next + 1) % kEntries;
  e.taps = plane_coefficients(k.in0, k.in1, k.image_size, k.plane_size, k.factor, k.out_size, k.filter, k.antialias,
                              e.start, e.count, e.weights, folded);
  group_coefficients(e);
  e.key = k, e.valid = true;
  return e;
}

// One band of L output rows: `rows` holds the L vertically resampled rows (span_l floats apart); they
// are transposed so each horizontal tap is one L-lane multiply-add across the band, then transposed back
// into the first n rows of `out`.
struct Band {
  const float* rows;
  std::size_t span_l;
  const AxisCoefficients* x;
  int first;
  std::size_t width;
  float* cols;
  float* band;
  float* out;
  int n;
};

void band_sse(const Band& b) {
  const AxisCoefficients& x = *b.x;
  const std::size_t sl = b.span_l;
  for (std::size_t c = 0; c < sl; c += 4) {
    __m128 r0 = _mm_loadu_ps(b.rows + c), r1 = _mm_loadu_ps(b.rows + sl + c);
    __m128 r2 = _mm_loadu_ps(b.rows + 2 * sl + c), r3 = _mm_loadu_ps(b.rows + 3 * sl + c);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(b.cols + 4 * c, r0);
    _mm_storeu_ps(b.cols + 4 * c + 4, r1);
    _mm_storeu_ps(b.cols + 4 * c + 8, r2);
    _mm_storeu_ps(b.cols + 4 * c + 12, r3);
  }
  for (std::size_t i = 0; i < b.width; ++i) {
    const float* wt = &x.weights[i * static_cast<std::size_t>(x.taps)];
    const float* p = b.cols + 4 * static_cast<std::size_t>(x.start[i] - b.first);
    __m128 acc = _mm_setzero_ps();
    for (int k = 0; k < x.count[i]; ++k, p += 4) acc = _mm_add_ps(acc, _mm_mul_ps(_mm_set1_ps(wt[k]), _mm_loadu_ps(p)));
    _mm_storeu_ps(b.band + 4 * i, acc);
  }
  std::size_t i = 0;
  for (; i + 4 <= b.width; i += 4) {
    __m128 r0 = _mm_loadu_ps(b.band + 4 * i), r1 = _mm_loadu_ps(b.band + 4 * i + 4);
    __m128 r2 = _mm_loadu_ps(b.band + 4 * i + 8), r3 = _mm_loadu_ps(b.band + 4 * i + 12);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    const __m128 row[4] = {r0, r1, r2, r3};
    for (int r = 0; r < b.n; ++r) _mm_storeu_ps(b.out + r * b.width + i, row[r]);
  }
  for (; i < b.width; ++i) {
    for (int r = 0; r < b.n; ++r) b.out[r * b.width + i] = b.band[4 * i + r];
  }
}

__attribute__((target("avx2,fma"))) inline void transpose8(__m256* r) {
  __m256 t[8], u[8];
  for (int k = 0; k < 4; ++k) {
    t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 2; ++k) {
    u[4 * k] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * k + 1] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * k + 2] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * k + 3] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x20);
    r[k + 4] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x31);
  }
}

__attribute__((target("avx2,fma"))) void band_avx2(const Band& b) {
  const AxisCoefficients& x = *b.x;
  const std::size_t sl = b.span_l;
  __m256 r[8];
  for (std::size_t c = 0; c < sl; c += 8) {
    for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(b.rows + k * sl + c);
    transpose8(r);
    for (int k = 0; k < 8; ++k) _mm256_storeu_ps(b.cols + 8 * (c + k), r[k]);
  }
  // Eight outputs at a time, each its own chain of multiply-adds (eight chains cover the FMA latency),
  // transposed in registers into eight row segments.
  const std::size_t taps = static_cast<std::size_t>(x.taps);
  std::size_t i = 0;
  for (; i + 8 <= b.width; i += 8) {
    const int n = x.group_count[i / 8];
    const float* wt = &x.group_weights[i * taps];
    const float* p0 = b.cols + 8 * static_cast<std::size_t>(x.start[i] - b.first);
    const int* d = &x.group_offsets[i];
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int k = 0; k < n; ++k, wt += 8, p0 += 8) {
      a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + 0), _mm256_loadu_ps(p0), a0);
      a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + 1), _mm256_loadu_ps(p0 + d[1]), a1);
      a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + 2), _mm256_loadu_ps(p0 + d[2]), a2);
      a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + 3), _mm256_loadu_ps(p0 + d[3]), a3);
      a4 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + 4), _mm256_loadu_ps(p0 + d[4]), a4);
      a5 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + 5), _mm256_loadu_ps(p0 + d[5]), a5);
      a6 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + 6), _mm256_loadu_ps(p0 + d[6]), a6);
      a7 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + 7), _mm256_loadu_ps(p0 + d[7]), a7);
    }
    r[0] = a0, r[1] = a1, r[2] = a2, r[3] = a3, r[4] = a4, r[5] = a5, r[6] = a6, r[7] = a7;
    transpose8(r);
    for (int k = 0; k < b.n; ++k) _mm256_storeu_ps(b.out + k * b.width + i, r[k]);
  }
  for (; i < b.width; ++i) {
    const float* wt = &x.weights[i * taps];
    const float* p = b.cols + 8 * static_cast<std::size_t>(x.start[i] - b.first);
    __m256 acc = _mm256_setzero_ps();
    for (int k = 0; k < x.count[i]; ++k, p += 8) acc = _mm256_fmadd_ps(_mm256_set1_ps(wt[k]), _mm256_loadu_ps(p), acc);
    alignas(32) float lane[8];
    _mm256_store_ps(lane, acc);
    for (int k = 0; k < b.n; ++k) b.out[k * b.width + i] = lane[k];
  }
}

}  // namespace

// The vertical pass runs along rows (contiguous, wide SIMD); the horizontal one works on bands of four
// (SSE) or eight (AVX2) output rows, so that it is SIMD too although a plane has one sample per pixel.
void resample_plane(const ConstImageView& src, const PlaneGrid& grid, double x0, double y0, double x1, double y1,
                    int out_width, int out_height, Filter filter, bool antialias, float* dst, ResampleScratch& s,
                    int lanes) {
  const AxisCoefficients& xc =
      cached_coefficients({x0, x1, grid.scale_x, grid.image_width, src.width, out_width, filter, antialias});
  const AxisCoefficients& yc =
      cached_coefficients({y0, y1, grid.scale_y, grid.image_height, src.height, out_height, filter, antialias}, &xc);
  static const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (lanes == 0) lanes = has_avx2 ? 8 : 4;
  const bool avx2 = lanes == 8;
  const int first = xc.start.front();
  int last = first;
  for (int i = 0; i < out_width; ++i) last = std::max(last, xc.start[i] + xc.count[i]);
  const std::size_t span = static_cast<std::size_t>(last - first);
  const std::size_t span_l = (span + lanes - 1) / lanes * lanes;
  const std::size_t w = static_cast<std::size_t>(out_width);
  s.rows.assign(lanes * span_l, 0.f);
  // Slack after the transposed span: the four-output kernel reads up to x_taps columns past a short
  // output's own taps (with zero weights); zeros there keep 0 * x finite.
  const std::size_t slack = static_cast<std::size_t>(lanes) * (xc.taps + 1);
  s.out_row.resize(lanes * span_l + slack);
  std::fill(s.out_row.begin() + static_cast<std::ptrdiff_t>(lanes * span_l), s.out_row.end(), 0.f);
  s.band.resize(lanes * w);
  for (int j0 = 0; j0 < out_height; j0 += lanes) {
    const int n = std::min(lanes, out_height - j0);
    for (int r = 0; r < n; ++r) {
      const std::size_t j = static_cast<std::size_t>(j0 + r);
      vertical_pass(src.row(yc.start[j]) + first, src.stride, span, &yc.weights[j * static_cast<std::size_t>(yc.taps)],
                    yc.count[j], s.rows.data() + r * span_l);
    }
    const Band b{s.rows.data(), span_l, &xc, first, w, s.out_row.data(), s.band.data(), dst + j0 * w, n};
    if (avx2) {
      band_avx2(b);
    } else {
      band_sse(b);
    }
  }
}

}  // namespace fastimg::detail
