#include "augment.hpp"

#include <immintrin.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pillow_arith.hpp"

namespace fastimg::detail {

namespace {

// pillow_blend and pillow_l four values at a time (SSE2, x86-64's baseline; GCC leaves the scalar loops
// branchy). Clamping then truncating equals pillow_blend in both of its cases: for alpha in [0, 1] the
// float result lies between its integral inputs, so the clamp changes nothing. Pillow's luma sums stay
// below 2^24, so float arithmetic holds them exactly and the shift is a power-of-two scale.
inline __m128 blend4(__m128 in1, __m128 in2, __m128 alpha) {
  return clip_truncate4(_mm_add_ps(in1, _mm_mul_ps(alpha, _mm_sub_ps(in2, in1))));
}

inline __m128 luma4(__m128 r, __m128 g, __m128 b) {
  __m128 v = _mm_add_ps(_mm_mul_ps(r, _mm_set1_ps(19595.f)), _mm_mul_ps(g, _mm_set1_ps(38470.f)));
  v = _mm_add_ps(_mm_add_ps(v, _mm_mul_ps(b, _mm_set1_ps(7471.f))), _mm_set1_ps(32768.f));
  return _mm_cvtepi32_ps(_mm_cvttps_epi32(_mm_mul_ps(v, _mm_set1_ps(1.f / 65536.f))));
}

// Pillow's COORD: a source coordinate to its pixel, -1 for anything left of zero.
// (Beyond int's range it is simply outside the image: a C++ cast there would be undefined.)
int coord(double v) { return v < 0.0 ? -1 : v >= 2147483647.0 ? 2147483647 : static_cast<int>(v); }

// Pillow's ImagingTransformAffine with NEAREST and a zero fill: output pixel (x, y) takes source pixel
// (a0 x + a1 y + a2, a3 x + a4 y + a5) at pixel centres, in one of Pillow's three ways (scale, 16.16 fixed
// point when every corner maps within +-32768, else floating point), which round differently.
// Sources are stored + 1, so that 0 is the fill (remap's zero slot) and no pixel branches.
const std::vector<int>& affine_sources(int w, int h, const double* a) {
  thread_local std::vector<int> src;
  src.resize(static_cast<std::size_t>(w) * h);
  auto set = [&](int x, int y, int xin, int yin) {
    const bool inside =
        static_cast<unsigned>(xin) < static_cast<unsigned>(w) && static_cast<unsigned>(yin) < static_cast<unsigned>(h);
    src[static_cast<std::size_t>(y) * w + x] = inside ? yin * w + xin + 1 : 0;
  };
  if (a[1] == 0 && a[3] == 0) {  // ImagingScaleAffine
    std::vector<int> xin(static_cast<std::size_t>(w));
    double xo = a[2] + a[0] * 0.5;
    for (int x = 0; x < w; ++x, xo += a[0]) xin[static_cast<std::size_t>(x)] = coord(xo);
    double yo = a[5] + a[4] * 0.5;
    for (int y = 0; y < h; ++y, yo += a[4]) {
      const int yi = coord(yo);
      for (int x = 0; x < w; ++x) set(x, y, xin[static_cast<std::size_t>(x)], yi);
    }
    return src;
  }
  auto fits = [&](int x, int y) {
    return std::fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && std::fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
  };
  if (fits(0, 0) && fits(w, h) && fits(0, h) && fits(w, 0)) {  // affine_fixed
    auto fix = [](double v) { return static_cast<int>(std::floor(v * 65536.0 + 0.5)); };
    const int a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4]);
    int a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
    for (int y = 0; y < h; ++y, a2 += a1, a5 += a4) {
      int xx = a2, yy = a5;
      for (int x = 0; x < w; ++x, xx += a0, yy += a3) set(x, y, xx >> 16, yy >> 16);
    }
    return src;
  }
  double xo = a[2] + a[1] * 0.5 + a[0] * 0.5, yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int y = 0; y < h; ++y, xo += a[1], yo += a[4]) {
    double xx = xo, yy = yo;
    for (int x = 0; x < w; ++x, xx += a[0], yy += a[3]) set(x, y, coord(xx), coord(yy));
  }
  return src;
}

// Each plane's pixel i takes the plane's pixel src[i] - 1, or zero for src[i] == 0, from a copy of the plane
// behind a zero slot.
void remap(float* planes, int w, int h, const std::vector<int>& src) {
  const std::size_t n = static_cast<std::size_t>(w) * h;
  thread_local std::vector<float> plane;
  plane.resize(n + 1);
  plane[0] = 0.f;
  const float* from = plane.data();
  const int* at = src.data();
  for (int c = 0; c < 3; ++c) {
    float* p = planes + c * n;
    std::copy(p, p + n, plane.begin() + 1);
    for (std::size_t i = 0; i < n; ++i) p[i] = from[at[i]];
  }
}

// Pillow's transpose for rotate(90) / rotate(270) of a square image.
const std::vector<int>& quarter_turn(int w, int h, bool counter_clockwise) {
  thread_local std::vector<int> src;
  src.resize(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      src[static_cast<std::size_t>(y) * w + x] = 1 + (counter_clockwise ? x * w + (w - 1 - y) : (h - 1 - x) * w + y);
    }
  }
  return src;
}

// ImageFilter.SMOOTH (3x3, 1 1 1 / 1 5 1 / 1 1 1, divided by 13) as Pillow's ImagingFilter3x3 computes it
// per band: float sums, row below first, half added for rounding, truncated; border pixels kept. Four
// pixels at a time in Pillow's order of operations (SSE2 has no fused multiply-add to change the rounding).
void smooth(const float* in, float* out, int w, int h) {
  // The kernel as Pillow holds it: float32 values divided by the double divisor.
  const auto k1 = static_cast<float>(1.0 / 13.0), k5 = static_cast<float>(5.0 / 13.0);
  const __m128 v1 = _mm_set1_ps(k1), v5 = _mm_set1_ps(k5), half = _mm_set1_ps(0.5f);
  auto three = [](const float* p, __m128 a, __m128 b) {  // p[-1] * a + p[0] * b + p[1] * a
    return _mm_add_ps(_mm_add_ps(_mm_mul_ps(_mm_loadu_ps(p - 1), a), _mm_mul_ps(_mm_loadu_ps(p), b)),
                      _mm_mul_ps(_mm_loadu_ps(p + 1), a));
  };
  std::copy(in, in + static_cast<std::size_t>(w) * h, out);
  for (int y = 1; y < h - 1; ++y) {
    const float *below = in + static_cast<std::size_t>(y + 1) * w, *row = in + static_cast<std::size_t>(y) * w;
    const float* above = in + static_cast<std::size_t>(y - 1) * w;
    float* o = out + static_cast<std::size_t>(y) * w;
    int x = 1;
    for (; x + 4 <= w - 1; x += 4) {
      __m128 ss = _mm_add_ps(half, three(below + x, v1, v1));
      ss = _mm_add_ps(ss, three(row + x, v1, v5));
      ss = _mm_add_ps(ss, three(above + x, v1, v1));
      _mm_storeu_ps(o + x, clip_truncate4(ss));
    }
    for (; x < w - 1; ++x) {
      float ss = 0.5f;
      ss += below[x - 1] * k1 + below[x] * k1 + below[x + 1] * k1;
      ss += row[x - 1] * k1 + row[x] * k5 + row[x + 1] * k1;
      ss += above[x - 1] * k1 + above[x] * k1 + above[x + 1] * k1;
      o[x] = ss <= 0.f ? 0.f : ss >= 255.f ? 255.f : static_cast<float>(static_cast<int>(ss));
    }
  }
}

// The plane's values (whole numbers 0..255) as bytes, sixteen at a time (SSE2).
void plane_bytes(const float* plane, std::size_t n, std::uint8_t* out) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_cvttps_epi32(_mm_loadu_ps(plane + i)), b = _mm_cvttps_epi32(_mm_loadu_ps(plane + i + 4));
    const __m128i c = _mm_cvttps_epi32(_mm_loadu_ps(plane + i + 8)), d = _mm_cvttps_epi32(_mm_loadu_ps(plane + i + 12));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d)));
  }
  for (; i < n; ++i) out[i] = static_cast<std::uint8_t>(plane[i]);
}

void lookup(float* plane, std::size_t n, const std::uint8_t* bytes, const std::array<int, 256>& lut) {
  std::array<float, 256> values{};
  for (std::size_t v = 0; v < 256; ++v) values[v] = static_cast<float>(lut[v]);
  for (std::size_t i = 0; i < n; ++i) plane[i] = values[bytes[i]];
}

// Four tables, so that runs of equal bytes do not wait on one counter's last increment.
std::array<std::int64_t, 256> histogram(const std::uint8_t* bytes, std::size_t n) {
  std::array<std::array<std::uint32_t, 256>, 4> part{};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++part[0][bytes[i]];
    ++part[1][bytes[i + 1]];
    ++part[2][bytes[i + 2]];
    ++part[3][bytes[i + 3]];
  }
  for (; i < n; ++i) ++part[0][bytes[i]];
  std::array<std::int64_t, 256> h{};
  for (std::size_t v = 0; v < 256; ++v) h[v] = std::int64_t{part[0][v]} + part[1][v] + part[2][v] + part[3][v];
  return h;
}

// ImageOps.autocontrast (no cutoff): each band stretched from its lowest to its highest value.
std::array<int, 256> autocontrast_lut(const std::array<std::int64_t, 256>& h) {
  std::array<int, 256> lut{};
  int lo = 0, hi = 255;
  while (lo < 256 && h[static_cast<std::size_t>(lo)] == 0) ++lo;
  while (hi >= 0 && h[static_cast<std::size_t>(hi)] == 0) --hi;
  for (int i = 0; i < 256; ++i) lut[static_cast<std::size_t>(i)] = i;
  if (hi <= lo) return lut;
  const double scale = 255.0 / (hi - lo), offset = -lo * scale;
  for (int i = 0; i < 256; ++i) {
    const auto v = static_cast<int>(i * scale + offset);
    lut[static_cast<std::size_t>(i)] = std::clamp(v, 0, 255);
  }
  return lut;
}

// ImageOps.equalize: each band's cumulative histogram, in Pillow's integer steps.
std::array<int, 256> equalize_lut(const std::array<std::int64_t, 256>& h) {
  std::array<int, 256> lut{};
  for (int i = 0; i < 256; ++i) lut[static_cast<std::size_t>(i)] = i;
  std::int64_t total = 0, last = 0, used = 0;
  for (std::int64_t v : h) {
    if (v == 0) continue;
    total += v;
    last = v;
    ++used;
  }
  if (used <= 1) return lut;
  const std::int64_t step = (total - last) / 255;
  if (step == 0) return lut;
  std::int64_t n = step / 2;
  for (int i = 0; i < 256; ++i) {
    lut[static_cast<std::size_t>(i)] = static_cast<int>(std::min<std::int64_t>(n / step, 255));  // point() clips
    n += h[static_cast<std::size_t>(i)];
  }
  return lut;
}

void blend_with(float* planes, std::size_t n, const float* degenerate, float factor) {
  const __m128 a = _mm_set1_ps(factor);
  std::size_t i = 0;
  for (; i + 4 <= 3 * n; i += 4) {
    _mm_storeu_ps(planes + i, blend4(_mm_loadu_ps(degenerate + i), _mm_loadu_ps(planes + i), a));
  }
  for (; i < 3 * n; ++i) planes[i] = pillow_blend(degenerate[i], planes[i], factor);
}

}  // namespace

namespace {

// Every value blended with the constant `degenerate` (Brightness: 0, Contrast: the mean luma).
void blend_constant(float* values, std::size_t n, float degenerate, float f) {
  const __m128 d = _mm_set1_ps(degenerate), a = _mm_set1_ps(f);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(values + i, blend4(d, _mm_loadu_ps(values + i), a));
  for (; i < n; ++i) values[i] = pillow_blend(degenerate, values[i], f);
}

// ImageOps.solarize: values at or above the threshold inverted. The values are whole numbers, so v < t (a
// double) is v < ceil(t) in float; a select instead of a branch (one mispredicted in two on busy images).
void solarize(float* values, std::size_t n, double threshold) {
  const auto t = static_cast<float>(std::ceil(std::min(threshold, 256.0)));
  const __m128 vt = _mm_set1_ps(t), top = _mm_set1_ps(255.f);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 v = _mm_loadu_ps(values + i), below = _mm_cmplt_ps(v, vt);
    _mm_storeu_ps(values + i, _mm_or_ps(_mm_and_ps(below, v), _mm_andnot_ps(below, _mm_sub_ps(top, v))));
  }
  for (; i < n; ++i) values[i] = values[i] < t ? values[i] : 255.f - values[i];
}

}  // namespace

void pillow_enhance(float* planes, std::size_t n, Enhance which, float f) {
  float *r = planes, *g = planes + n, *b = planes + 2 * n;
  const std::size_t whole = n / 4 * 4;
  if (which == Enhance::Brightness) {
    blend_constant(planes, 3 * n, 0.f, f);
  } else if (which == Enhance::Contrast) {
    __m128 lanes = _mm_setzero_ps();  // each lane's sum of whole lumas stays below 2^24: exact
    for (std::size_t i = 0; i < whole; i += 4) {
      lanes = _mm_add_ps(lanes, luma4(_mm_loadu_ps(r + i), _mm_loadu_ps(g + i), _mm_loadu_ps(b + i)));
    }
    alignas(16) float sums[4];
    _mm_store_ps(sums, lanes);
    double total = static_cast<double>(sums[0]) + sums[1] + sums[2] + sums[3];
    for (std::size_t i = whole; i < n; ++i) total += pillow_l(r[i], g[i], b[i]);
    const auto mean = static_cast<float>(static_cast<int>(total / static_cast<double>(n) + 0.5));
    blend_constant(planes, 3 * n, mean, f);
  } else {
    const __m128 a = _mm_set1_ps(f);
    for (std::size_t i = 0; i < whole; i += 4) {
      const __m128 rr = _mm_loadu_ps(r + i), gg = _mm_loadu_ps(g + i), bb = _mm_loadu_ps(b + i);
      const __m128 l = luma4(rr, gg, bb);
      _mm_storeu_ps(r + i, blend4(l, rr, a));
      _mm_storeu_ps(g + i, blend4(l, gg, a));
      _mm_storeu_ps(b + i, blend4(l, bb, a));
    }
    for (std::size_t i = whole; i < n; ++i) {
      const float l = pillow_l(r[i], g[i], b[i]);
      r[i] = pillow_blend(l, r[i], f);
      g[i] = pillow_blend(l, g[i], f);
      b[i] = pillow_blend(l, b[i], f);
    }
  }
}

void apply_augment(float* planes, int w, int h, const double* e) {
  const std::size_t n = static_cast<std::size_t>(w) * h;
  const auto f = static_cast<float>(e[1]);
  switch (static_cast<AugmentKind>(static_cast<int>(e[0]))) {
    case AugmentKind::Identity: return;
    case AugmentKind::Affine: return remap(planes, w, h, affine_sources(w, h, e + 1));
    case AugmentKind::Rotate90: return remap(planes, w, h, quarter_turn(w, h, true));
    case AugmentKind::Rotate270: return remap(planes, w, h, quarter_turn(w, h, false));
    case AugmentKind::Brightness: return pillow_enhance(planes, n, Enhance::Brightness, f);
    case AugmentKind::Color: return pillow_enhance(planes, n, Enhance::Color, f);
    case AugmentKind::Contrast: return pillow_enhance(planes, n, Enhance::Contrast, f);
    case AugmentKind::Sharpness: {  // ImageEnhance.Sharpness: blend with the SMOOTH-filtered image
      thread_local std::vector<float> smoothed;
      smoothed.resize(3 * n);
      for (int c = 0; c < 3; ++c) smooth(planes + c * n, smoothed.data() + c * n, w, h);
      return blend_with(planes, n, smoothed.data(), f);
    }
    case AugmentKind::Invert: {  // ImageOps.invert
      for (std::size_t i = 0; i < 3 * n; ++i) planes[i] = 255.f - planes[i];
      return;
    }
    case AugmentKind::Posterize: {
      const int mask = ~((1 << (8 - static_cast<int>(e[1]))) - 1);
      for (std::size_t i = 0; i < 3 * n; ++i) planes[i] = static_cast<float>(static_cast<int>(planes[i]) & mask);
      return;
    }
    case AugmentKind::Solarize: return solarize(planes, 3 * n, e[1]);
    case AugmentKind::AutoContrast:
    case AugmentKind::Equalize: {
      const bool stretch = static_cast<int>(e[0]) == static_cast<int>(AugmentKind::AutoContrast);
      thread_local std::vector<std::uint8_t> bytes;
      bytes.resize(n);
      for (int c = 0; c < 3; ++c) {
        plane_bytes(planes + c * n, n, bytes.data());
        const auto h_c = histogram(bytes.data(), n);
        lookup(planes + c * n, n, bytes.data(), stretch ? autocontrast_lut(h_c) : equalize_lut(h_c));
      }
      return;
    }
  }
}

}  // namespace fastimg::detail
