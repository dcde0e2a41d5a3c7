#include "finish.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../codecs/exif.hpp"

namespace fastimg::detail {

void orient_floats(const float* src, int w, int h, int c, int orientation, float* dst) {
  const OrientationOps o = orientation_ops(orientation);
  const int out_w = o.swap ? h : w, out_h = o.swap ? w : h;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      int u = o.swap ? y : x, v = o.swap ? x : y;
      if (o.flip_x) u = out_w - 1 - u;
      if (o.flip_y) v = out_h - 1 - v;
      std::memcpy(dst + (static_cast<std::size_t>(v) * out_w + u) * c, src + (static_cast<std::size_t>(y) * w + x) * c,
                  sizeof(float) * static_cast<std::size_t>(c));
    }
  }
}

void color_jitter(float* px, int width, int height, const ItemPlan& plan) {
  const std::size_t n = static_cast<std::size_t>(width) * height;
  auto clamp = [](float v) { return std::min(255.f, std::max(0.f, v)); };
  // torchvision's rgb_to_grayscale weights.
  auto gray = [](const float* p) { return 0.2989f * p[0] + 0.587f * p[1] + 0.114f * p[2]; };
  for (int step : plan.jitter_order) {
    if (step == 0 && plan.brightness != 1.0) {
      const auto f = static_cast<float>(plan.brightness);
      for (std::size_t i = 0; i < 3 * n; ++i) px[i] = clamp(px[i] * f);
    } else if (step == 1 && plan.contrast != 1.0) {
      double total = 0;
      for (std::size_t i = 0; i < n; ++i) total += gray(px + 3 * i);
      const auto mean = static_cast<float>(total / static_cast<double>(n));
      const auto f = static_cast<float>(plan.contrast);
      for (std::size_t i = 0; i < 3 * n; ++i) px[i] = clamp(f * px[i] + (1 - f) * mean);
    } else if (step == 2 && plan.saturation != 1.0) {
      const auto f = static_cast<float>(plan.saturation);
      for (std::size_t i = 0; i < n; ++i) {
        float* p = px + 3 * i;
        const float g = gray(p);
        for (int c = 0; c < 3; ++c) p[c] = clamp(f * p[c] + (1 - f) * g);
      }
    }
  }
}

std::uint16_t float_to_half(float value) {
  // numpy's npy_floatbits_to_halfbits: round to nearest even, overflow to infinity, NaN kept.
  std::uint32_t f;
  std::memcpy(&f, &value, 4);
  const auto sign = static_cast<std::uint16_t>((f & 0x80000000u) >> 16);
  const std::uint32_t f_exp = f & 0x7F800000u;
  if (f_exp >= 0x47800000u) {
    if (f_exp == 0x7F800000u && (f & 0x007FFFFFu) != 0) return static_cast<std::uint16_t>(sign | 0x7E00u);
    return static_cast<std::uint16_t>(sign | 0x7C00u);
  }
  if (f_exp <= 0x38000000u) {
    if (f_exp < 0x33000000u) return sign;
    const std::uint32_t e = f_exp >> 23;
    std::uint32_t sig = 0x00800000u + (f & 0x007FFFFFu);
    sig >>= (113 - e);
    if ((sig & 0x00003FFFu) != 0x00001000u || (f & 0x000007FFu) != 0) sig += 0x00001000u;
    return static_cast<std::uint16_t>(sign | (sig >> 13));
  }
  const std::uint32_t h_exp = (f_exp - 0x38000000u) >> 13;
  std::uint32_t sig = f & 0x007FFFFFu;
  if ((sig & 0x00003FFFu) != 0x00001000u) sig += 0x00001000u;
  return static_cast<std::uint16_t>(sign | ((sig >> 13) + h_exp));
}

namespace {

struct Affine {
  float scale[3], shift[3];
};

// Planar (NCHW) rows: three output planes, one pass over the interleaved floats. Written as one loop
// with a grouped stride-3 read so the compiler vectorises it (AVX2 clone where available).
template <class T, class Cvt>
inline void planar_row(const float* row, int w, bool flip, const Affine& a, T* r, T* g, T* b, Cvt cvt) {
  if (!flip) {
    for (int x = 0; x < w; ++x) {
      r[x] = cvt(row[3 * x] * a.scale[0] + a.shift[0]);
      g[x] = cvt(row[3 * x + 1] * a.scale[1] + a.shift[1]);
      b[x] = cvt(row[3 * x + 2] * a.scale[2] + a.shift[2]);
    }
  } else {
    const float* last = row + 3 * (w - 1);
    for (int x = 0; x < w; ++x) {
      r[x] = cvt(last[-3 * x] * a.scale[0] + a.shift[0]);
      g[x] = cvt(last[-3 * x + 1] * a.scale[1] + a.shift[1]);
      b[x] = cvt(last[-3 * x + 2] * a.scale[2] + a.shift[2]);
    }
  }
}

// Interleaved (NHWC) rows: a flat multiply-add against per-position scale/shift patterns.
template <class T, class Cvt>
inline void interleaved_row(const float* row, int w, bool flip, const float* scale, const float* shift, T* out,
                            Cvt cvt) {
  if (!flip) {
    for (int i = 0; i < 3 * w; ++i) out[i] = cvt(row[i] * scale[i] + shift[i]);
  } else {
    for (int x = 0; x < w; ++x) {
      const float* p = row + 3 * (w - 1 - x);
      for (int c = 0; c < 3; ++c) out[3 * x + c] = cvt(p[c] * scale[c] + shift[c]);
    }
  }
}

template <class T, class Cvt>
void write_all(const float* px, const TransformSpec& s, bool flip, const Affine& a, T* out, Cvt cvt) {
  const int w = s.width, h = s.height;
  const std::size_t plane = static_cast<std::size_t>(w) * h;
  if (s.layout == Layout::NCHW) {
    for (int y = 0; y < h; ++y) {
      T* r = out + static_cast<std::size_t>(y) * w;
      planar_row(px + static_cast<std::size_t>(y) * w * 3, w, flip, a, r, r + plane, r + 2 * plane, cvt);
    }
    return;
  }
  std::vector<float> scale(static_cast<std::size_t>(3) * w), shift(static_cast<std::size_t>(3) * w);
  for (int i = 0; i < 3 * w; ++i) {
    scale[static_cast<std::size_t>(i)] = a.scale[i % 3];
    shift[static_cast<std::size_t>(i)] = a.shift[i % 3];
  }
  for (int y = 0; y < h; ++y) {
    interleaved_row(px + static_cast<std::size_t>(y) * w * 3, w, flip, scale.data(), shift.data(),
                    out + static_cast<std::size_t>(y) * w * 3, cvt);
  }
}

struct ToFloat {
  float operator()(float v) const { return v; }
};
struct ToHalf {
  std::uint16_t operator()(float v) const { return float_to_half(v); }
};
struct ToByte {
  std::uint8_t operator()(float v) const { return static_cast<std::uint8_t>(std::min(255.f, std::max(0.f, v)) + 0.5f); }
};

}  // namespace

__attribute__((target_clones("avx2", "default"))) void write_output(const float* px, const TransformSpec& s, bool flip,
                                                                    std::uint8_t* slot) {
  Affine a{};
  for (int c = 0; c < 3; ++c) {
    const bool raw = s.dtype == OutputType::UInt8;
    a.scale[c] = raw ? 1.f : 1.f / (255.f * s.std[c]);
    a.shift[c] = raw ? 0.f : -s.mean[c] / s.std[c];
  }
  switch (s.dtype) {
    case OutputType::Float32: write_all(px, s, flip, a, reinterpret_cast<float*>(slot), ToFloat{}); break;
    case OutputType::Float16: write_all(px, s, flip, a, reinterpret_cast<std::uint16_t*>(slot), ToHalf{}); break;
    case OutputType::UInt8: write_all(px, s, flip, a, slot, ToByte{}); break;
  }
}

}  // namespace fastimg::detail
