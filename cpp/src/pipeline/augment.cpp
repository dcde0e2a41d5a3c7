#include "augment.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pillow_arith.hpp"

namespace fastimg::detail {

namespace {

// Pillow's COORD: a source coordinate to its pixel, -1 for anything left of zero.
// (Beyond int's range it is simply outside the image: a C++ cast there would be undefined.)
int coord(double v) { return v < 0.0 ? -1 : v >= 2147483647.0 ? 2147483647 : static_cast<int>(v); }

// Pillow's ImagingTransformAffine with NEAREST and a zero fill: output pixel (x, y) takes source pixel
// (a0 x + a1 y + a2, a3 x + a4 y + a5) at pixel centres, in one of Pillow's three ways (scale, 16.16 fixed
// point when every corner maps within +-32768, else floating point), which round differently.
std::vector<int> affine_sources(int w, int h, const double* a) {
  std::vector<int> src(static_cast<std::size_t>(w) * h, -1);
  auto set = [&](int x, int y, int xin, int yin) {
    if (xin >= 0 && xin < w && yin >= 0 && yin < h) src[static_cast<std::size_t>(y) * w + x] = yin * w + xin;
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

void remap(float* planes, int w, int h, const std::vector<int>& src) {
  const std::size_t n = static_cast<std::size_t>(w) * h;
  std::vector<float> plane(n);
  for (int c = 0; c < 3; ++c) {
    float* p = planes + c * n;
    for (std::size_t i = 0; i < n; ++i) plane[i] = src[i] < 0 ? 0.f : p[src[i]];
    std::copy(plane.begin(), plane.end(), p);
  }
}

// Pillow's transpose for rotate(90) / rotate(270) of a square image.
std::vector<int> quarter_turn(int w, int h, bool counter_clockwise) {
  std::vector<int> src(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      src[static_cast<std::size_t>(y) * w + x] = counter_clockwise ? x * w + (w - 1 - y) : (h - 1 - x) * w + y;
    }
  }
  return src;
}

// ImageFilter.SMOOTH (3x3, 1 1 1 / 1 5 1 / 1 1 1, divided by 13) as Pillow's ImagingFilter3x3 computes it
// per band: float sums, row below first, half added for rounding, truncated; border pixels kept.
void smooth(const float* in, float* out, int w, int h) {
  // The kernel as Pillow holds it: float32 values divided by the double divisor.
  const auto k1 = static_cast<float>(1.0 / 13.0), k5 = static_cast<float>(5.0 / 13.0);
  std::copy(in, in + static_cast<std::size_t>(w) * h, out);
  for (int y = 1; y < h - 1; ++y) {
    const float *below = in + static_cast<std::size_t>(y + 1) * w, *row = in + static_cast<std::size_t>(y) * w;
    const float* above = in + static_cast<std::size_t>(y - 1) * w;
    for (int x = 1; x < w - 1; ++x) {
      float ss = 0.5f;
      ss += below[x - 1] * k1 + below[x] * k1 + below[x + 1] * k1;
      ss += row[x - 1] * k1 + row[x] * k5 + row[x + 1] * k1;
      ss += above[x - 1] * k1 + above[x] * k1 + above[x + 1] * k1;
      out[static_cast<std::size_t>(y) * w + x] = ss <= 0.f     ? 0.f
                                                 : ss >= 255.f ? 255.f
                                                               : static_cast<float>(static_cast<int>(ss));
    }
  }
}

void lookup(float* plane, std::size_t n, const std::array<int, 256>& lut) {
  for (std::size_t i = 0; i < n; ++i) plane[i] = static_cast<float>(lut[static_cast<std::size_t>(plane[i])]);
}

std::array<std::int64_t, 256> histogram(const float* plane, std::size_t n) {
  std::array<std::int64_t, 256> h{};
  for (std::size_t i = 0; i < n; ++i) ++h[static_cast<std::size_t>(plane[i])];
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
  for (int c = 0; c < 3; ++c) {
    float* p = planes + c * n;
    const float* d = degenerate + c * n;
    for (std::size_t i = 0; i < n; ++i) p[i] = pillow_blend(d[i], p[i], factor);
  }
}

}  // namespace

void pillow_enhance(float* planes, std::size_t n, Enhance which, float f) {
  float *r = planes, *g = planes + n, *b = planes + 2 * n;
  if (which == Enhance::Brightness) {
    for (std::size_t i = 0; i < 3 * n; ++i) planes[i] = pillow_blend(0.f, planes[i], f);
  } else if (which == Enhance::Contrast) {
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) total += pillow_l(r[i], g[i], b[i]);
    const auto mean = static_cast<float>(static_cast<int>(total / static_cast<double>(n) + 0.5));
    for (std::size_t i = 0; i < 3 * n; ++i) planes[i] = pillow_blend(mean, planes[i], f);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
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
      std::vector<float> smoothed(3 * n);
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
    case AugmentKind::Solarize: {  // ImageOps.solarize: values at or above the threshold inverted
      for (std::size_t i = 0; i < 3 * n; ++i) planes[i] = planes[i] < e[1] ? planes[i] : 255.f - planes[i];
      return;
    }
    case AugmentKind::AutoContrast:
    case AugmentKind::Equalize: {
      const bool stretch = static_cast<int>(e[0]) == static_cast<int>(AugmentKind::AutoContrast);
      for (int c = 0; c < 3; ++c) {
        const auto h_c = histogram(planes + c * n, n);
        lookup(planes + c * n, n, stretch ? autocontrast_lut(h_c) : equalize_lut(h_c));
      }
      return;
    }
  }
}

}  // namespace fastimg::detail
