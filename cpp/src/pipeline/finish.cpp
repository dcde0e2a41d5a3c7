#include "finish.hpp"

#include "augment.hpp"
#include "pillow_arith.hpp"

#include <immintrin.h>
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

namespace {

// Branch-free clamp the compiler vectorises (std::min/max keep NaN ordering rules that block it here).
inline float clamp255(float v) {
  v = v > 0.f ? v : 0.f;
  return v < 255.f ? v : 255.f;
}

// JFIF YCbCr -> RGB of sample i (libjpeg's constants).
inline void ycbcr_pixel(float l, float cb, float cr, float& r, float& g, float& b) {
  const float u = cb - 128.f, v = cr - 128.f;
  r = clamp255(l + 1.402f * v);
  g = clamp255(l - 0.34414f * u - 0.71414f * v);
  b = clamp255(l + 1.772f * u);
}

__attribute__((target_clones("avx2", "default"))) void ycbcr_in_place(float* __restrict y, float* __restrict cb,
                                                                      float* __restrict cr, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) ycbcr_pixel(y[i], cb[i], cr[i], y[i], cb[i], cr[i]);
}

__attribute__((target_clones("avx2", "default"))) void ycbcr_rows(const float* __restrict y, const float* __restrict cb,
                                                                  const float* __restrict cr, float* __restrict r,
                                                                  float* __restrict g, float* __restrict b,
                                                                  std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) ycbcr_pixel(y[i], cb[i], cr[i], r[i], g[i], b[i]);
}

void deinterleave(const float* __restrict packed, std::size_t n, float* __restrict r, float* __restrict g,
                  float* __restrict b) {
  for (std::size_t i = 0; i < n; ++i) {
    r[i] = packed[3 * i];
    g[i] = packed[3 * i + 1];
    b[i] = packed[3 * i + 2];
  }
}

// Clamped to 0..255 and rounded half up, as a uint8 image holds the value (clipping v + 0.5 then truncating
// gives the same as rounding the clamped value).
inline __m128 to_byte4(__m128 v) { return clip_truncate4(_mm_add_ps(v, _mm_set1_ps(0.5f))); }

inline float to_byte1(float v) { return static_cast<float>(static_cast<int>(clamp255(v) + 0.5f)); }

// ycbcr_in_place and round_to_bytes in one pass over the planes (the same operations in the same order, no
// fused multiply-add, so the same values).
void ycbcr_bytes(float* y, float* cb, float* cr, std::size_t n) {
  const __m128 mid = _mm_set1_ps(128.f), kr = _mm_set1_ps(1.402f), kgu = _mm_set1_ps(0.34414f);
  const __m128 kgv = _mm_set1_ps(0.71414f), kb = _mm_set1_ps(1.772f);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 l = _mm_loadu_ps(y + i), u = _mm_sub_ps(_mm_loadu_ps(cb + i), mid);
    const __m128 v = _mm_sub_ps(_mm_loadu_ps(cr + i), mid);
    _mm_storeu_ps(y + i, to_byte4(_mm_add_ps(l, _mm_mul_ps(kr, v))));
    _mm_storeu_ps(cb + i, to_byte4(_mm_sub_ps(_mm_sub_ps(l, _mm_mul_ps(kgu, u)), _mm_mul_ps(kgv, v))));
    _mm_storeu_ps(cr + i, to_byte4(_mm_add_ps(l, _mm_mul_ps(kb, u))));
  }
  for (; i < n; ++i) {
    ycbcr_pixel(y[i], cb[i], cr[i], y[i], cb[i], cr[i]);
    y[i] = to_byte1(y[i]);
    cb[i] = to_byte1(cb[i]);
    cr[i] = to_byte1(cr[i]);
  }
}

}  // namespace

void round_to_bytes(float* values, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(values + i, to_byte4(_mm_loadu_ps(values + i)));
  for (; i < n; ++i) values[i] = to_byte1(values[i]);
}

void ycbcr_to_rgb_bytes(float* planes, std::size_t n) { ycbcr_bytes(planes, planes + n, planes + 2 * n, n); }

void ycbcr_to_rgb(float* planes, std::size_t n) { ycbcr_in_place(planes, planes + n, planes + 2 * n, n); }

void to_planes(const float* packed, std::size_t n, float* planes) {
  deinterleave(packed, n, planes, planes + n, planes + 2 * n);
}

bool has_jitter(const ItemPlan& plan) {
  return plan.brightness != 1.0 || plan.contrast != 1.0 || plan.saturation != 1.0 || plan.hue != 0.0;
}

namespace {

// torchvision's adjust_hue on float tensors (_rgb2hsv, shift modulo 1, _hsv2rgb), on 0..255 values.
void hue_shift_float(float* r, float* g, float* b, std::size_t n, float shift) {
  for (std::size_t i = 0; i < n; ++i) {
    const float rr = r[i] / 255.f, gg = g[i] / 255.f, bb = b[i] / 255.f;
    const float maxc = std::max(rr, std::max(gg, bb)), minc = std::min(rr, std::min(gg, bb));
    const float cr = maxc - minc;
    float h = 0.f;
    const float s = maxc == minc ? 0.f : cr / maxc;
    if (maxc != minc) {
      const float rc = (maxc - rr) / cr, gc = (maxc - gg) / cr, bc = (maxc - bb) / cr;
      h = maxc == rr ? bc - gc : maxc == gg ? 2.f + rc - bc : 4.f + gc - rc;
    }
    h = std::fmod(std::fmod(h / 6.f + 1.f, 1.f) + shift + 1.f, 1.f);
    const float fi = std::floor(h * 6.f), f = h * 6.f - fi, v = maxc;
    const float p = std::clamp(v * (1.f - s), 0.f, 1.f), q = std::clamp(v * (1.f - s * f), 0.f, 1.f);
    const float t = std::clamp(v * (1.f - s * (1.f - f)), 0.f, 1.f);
    const int sector = static_cast<int>(fi) % 6;
    const float out[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
    r[i] = out[sector][0] * 255.f;
    g[i] = out[sector][1] * 255.f;
    b[i] = out[sector][2] * 255.f;
  }
}

// Pillow's RGB -> HSV -> RGB (Convert.c, following colorsys) with torchvision's PIL-path shift of the uint8
// hue: the arithmetic types are Pillow's (float variables, double constants), so the bytes match.
void hue_shift_pillow(float* r, float* g, float* b, std::size_t n, double factor) {
  const auto delta = static_cast<std::uint8_t>(static_cast<std::int32_t>(factor * 255));
  for (std::size_t i = 0; i < n; ++i) {
    const auto R = static_cast<int>(r[i]), G = static_cast<int>(g[i]), B = static_cast<int>(b[i]);
    const int maxc = std::max(R, std::max(G, B)), minc = std::min(R, std::min(G, B));
    if (maxc == minc) continue;  // hue 0, saturation 0: grey stays grey
    const float cr = static_cast<float>(maxc - minc);
    const float s = cr / static_cast<float>(maxc);
    const float rc = static_cast<float>(maxc - R) / cr, gc = static_cast<float>(maxc - G) / cr;
    const float bc = static_cast<float>(maxc - B) / cr;
    float h = R == maxc ? bc - gc : G == maxc ? static_cast<float>(2.0 + rc - bc) : static_cast<float>(4.0 + gc - rc);
    h = static_cast<float>(std::fmod(h / 6.0 + 1.0, 1.0));
    const auto uh = static_cast<std::uint8_t>(std::clamp(static_cast<int>(h * 255.0), 0, 255));
    const auto us = static_cast<std::uint8_t>(std::clamp(static_cast<int>(s * 255.0), 0, 255));
    const auto hh = static_cast<std::uint8_t>(uh + delta);
    if (us == 0) {
      r[i] = g[i] = b[i] = static_cast<float>(maxc);
      continue;
    }
    const int sector = static_cast<int>(std::floor(static_cast<float>(hh) * 6.0 / 255.0));
    const auto f = static_cast<float>(static_cast<float>(hh) * 6.0 / 255.0 - static_cast<float>(sector));
    const auto fs = static_cast<float>(static_cast<float>(us) / 255.0);
    const float v = static_cast<float>(maxc);
    const auto up = static_cast<float>(std::clamp(static_cast<int>(std::round(v * (1.0 - fs))), 0, 255));
    const auto uq = static_cast<float>(std::clamp(static_cast<int>(std::round(v * (1.0 - fs * f))), 0, 255));
    const auto ut = static_cast<float>(std::clamp(static_cast<int>(std::round(v * (1.0 - fs * (1.0 - f)))), 0, 255));
    const float out[6][3] = {{v, ut, up}, {uq, v, up}, {up, v, ut}, {up, uq, v}, {ut, up, v}, {v, up, uq}};
    r[i] = out[sector % 6][0];
    g[i] = out[sector % 6][1];
    b[i] = out[sector % 6][2];
  }
}

}  // namespace

void color_jitter(float* px, int width, int height, const ItemPlan& plan) {
  const std::size_t n = static_cast<std::size_t>(width) * height;
  float *r = px, *g = px + n, *b = px + 2 * n;
  auto clamp = [](float v) { return std::min(255.f, std::max(0.f, v)); };
  // torchvision's rgb_to_grayscale weights.
  auto gray = [&](std::size_t i) { return 0.2989f * r[i] + 0.587f * g[i] + 0.114f * b[i]; };
  for (int k = 0; k < plan.jitter_steps; ++k) {
    const int step = plan.jitter_order[k];
    if (step == 3 && plan.hue != 0.0) hue_shift_float(r, g, b, n, static_cast<float>(plan.hue));
    if (step == 0 && plan.brightness != 1.0) {
      const auto f = static_cast<float>(plan.brightness);
      for (std::size_t i = 0; i < 3 * n; ++i) px[i] = clamp(px[i] * f);
    } else if (step == 1 && plan.contrast != 1.0) {
      double total = 0;
      for (std::size_t i = 0; i < n; ++i) total += gray(i);
      const auto mean = static_cast<float>(total / static_cast<double>(n));
      const auto f = static_cast<float>(plan.contrast);
      for (std::size_t i = 0; i < 3 * n; ++i) px[i] = clamp(f * px[i] + (1 - f) * mean);
    } else if (step == 2 && plan.saturation != 1.0) {
      const auto f = static_cast<float>(plan.saturation);
      for (std::size_t i = 0; i < n; ++i) {
        const float v = gray(i);
        r[i] = clamp(f * r[i] + (1 - f) * v);
        g[i] = clamp(f * g[i] + (1 - f) * v);
        b[i] = clamp(f * b[i] + (1 - f) * v);
      }
    }
  }
}

void color_jitter_pillow(float* px, int width, int height, const ItemPlan& plan) {
  const std::size_t n = static_cast<std::size_t>(width) * height;
  float *r = px, *g = px + n, *b = px + 2 * n;
  for (int k = 0; k < plan.jitter_steps; ++k) {
    const int step = plan.jitter_order[k];
    if (step == 3 && plan.hue != 0.0) hue_shift_pillow(r, g, b, n, plan.hue);  // F_pil.adjust_hue
    if (step == 0 && plan.brightness != 1.0)
      pillow_enhance(px, n, Enhance::Brightness, static_cast<float>(plan.brightness));
    if (step == 1 && plan.contrast != 1.0) pillow_enhance(px, n, Enhance::Contrast, static_cast<float>(plan.contrast));
    if (step == 2 && plan.saturation != 1.0) pillow_enhance(px, n, Enhance::Color, static_cast<float>(plan.saturation));
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

// One output row of one channel (NCHW): a flat multiply-add the compiler vectorises.
template <class T, class Cvt>
inline void plane_row(const float* __restrict row, int w, bool flip, float scale, float shift, T* __restrict out,
                      Cvt cvt) {
  if (!flip) {
    for (int x = 0; x < w; ++x) out[x] = cvt(row[x] * scale + shift);
  } else {
    const float* last = row + (w - 1);
    for (int x = 0; x < w; ++x) out[x] = cvt(last[-x] * scale + shift);
  }
}

// The item's pixels as stored (PixelLayout); YCbCr and packed rows are converted a row at a time into `rgb`
// (3 x width floats, L1-resident), so the full-size pixels are read once instead of converted in a pass of
// their own and read again.
struct Source {
  const float* pixels;
  std::size_t n;
  int width;
  PixelLayout layout;
  float* rgb;

  // Row y of the three channels.
  void row(int y, const float* ch[3]) const {
    const std::size_t w = static_cast<std::size_t>(width), at = static_cast<std::size_t>(y) * w;
    switch (layout) {
      case PixelLayout::Planes:
        for (int c = 0; c < 3; ++c) ch[c] = pixels + c * n + at;
        return;
      case PixelLayout::YCbCr:
        ycbcr_rows(pixels + at, pixels + n + at, pixels + 2 * n + at, rgb, rgb + w, rgb + 2 * w, w);
        break;
      case PixelLayout::Packed: deinterleave(pixels + 3 * at, w, rgb, rgb + w, rgb + 2 * w); break;
    }
    for (int c = 0; c < 3; ++c) ch[c] = rgb + c * w;
  }
};

template <class T, class Cvt>
void write_all(const Source& src, const TransformSpec& s, bool flip, const Affine& a, T* out, Cvt cvt) {
  const int w = s.width, h = s.height;
  const std::size_t n = static_cast<std::size_t>(w) * h;
  const float* ch[3];
  for (int y = 0; y < h; ++y) {
    src.row(y, ch);
    const std::size_t row = static_cast<std::size_t>(y) * w;
    if (s.layout == Layout::NCHW) {
      for (int c = 0; c < 3; ++c) plane_row(ch[c], w, flip, a.scale[c], a.shift[c], out + c * n + row, cvt);
      continue;
    }
    T* o = out + 3 * row;
    for (int x = 0; x < w; ++x) {
      const std::size_t at = static_cast<std::size_t>(flip ? w - 1 - x : x);
      for (int c = 0; c < 3; ++c) o[3 * x + c] = cvt(ch[c][at] * a.scale[c] + a.shift[c]);
    }
  }
}

// Float NCHW with 32-byte aligned rows: streaming stores. A batch is tens of megabytes written once and read
// later by the consumer; ordinary stores would first read every output line into the cache.
__attribute__((target("avx2"))) void stream_float_nchw(const Source& src, const TransformSpec& s, bool flip,
                                                       const Affine& a, float* out) {
  const int w = s.width, h = s.height;
  const std::size_t n = static_cast<std::size_t>(w) * h;
  const __m256i reverse = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
  const float* ch[3];
  for (int y = 0; y < h; ++y) {
    src.row(y, ch);
    for (int c = 0; c < 3; ++c) {
      const __m256 scale = _mm256_set1_ps(a.scale[c]), shift = _mm256_set1_ps(a.shift[c]);
      float* o = out + c * n + static_cast<std::size_t>(y) * w;
      for (int x = 0; x < w; x += 8) {
        __m256 v =
            flip ? _mm256_permutevar8x32_ps(_mm256_loadu_ps(ch[c] + (w - 8 - x)), reverse) : _mm256_loadu_ps(ch[c] + x);
        _mm256_stream_ps(o + x, _mm256_add_ps(_mm256_mul_ps(v, scale), shift));  // as the scalar path rounds
      }
    }
  }
  _mm_sfence();
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

__attribute__((target_clones("avx2", "default"))) void write_output(const float* px, PixelLayout layout,
                                                                    const TransformSpec& s, bool flip,
                                                                    std::uint8_t* slot) {
  Affine a{};
  for (int c = 0; c < 3; ++c) {
    const bool raw = s.dtype == OutputType::UInt8;
    a.scale[c] = raw ? 1.f : 1.f / (255.f * s.std[c]);
    a.shift[c] = raw ? 0.f : -s.mean[c] / s.std[c];
  }
  thread_local std::vector<float> rgb;
  if (layout != PixelLayout::Planes) rgb.resize(3 * static_cast<std::size_t>(s.width));
  const Source src{px, static_cast<std::size_t>(s.width) * s.height, s.width, layout, rgb.data()};
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  if (has_avx2 && s.dtype == OutputType::Float32 && s.layout == Layout::NCHW && s.width % 8 == 0 &&
      reinterpret_cast<std::uintptr_t>(slot) % 32 == 0) {
    stream_float_nchw(src, s, flip, a, reinterpret_cast<float*>(slot));
    return;
  }
  switch (s.dtype) {
    case OutputType::Float32: write_all(src, s, flip, a, reinterpret_cast<float*>(slot), ToFloat{}); break;
    case OutputType::Float16: write_all(src, s, flip, a, reinterpret_cast<std::uint16_t*>(slot), ToHalf{}); break;
    case OutputType::UInt8: write_all(src, s, flip, a, slot, ToByte{}); break;
  }
}

void grayscale(float* planes, std::size_t n, bool exact) {
  float *r = planes, *g = planes + n, *b = planes + 2 * n;
  for (std::size_t i = 0; i < n; ++i) {
    // exact: Pillow's convert("L") (torchvision's PIL path); else torchvision's tensor weights.
    const float l = exact ? pillow_l(r[i], g[i], b[i]) : 0.2989f * r[i] + 0.587f * g[i] + 0.114f * b[i];
    r[i] = g[i] = b[i] = l;
  }
}

void flip_columns(float* planes, int width, int height) {
  for (int row = 0; row < 3 * height; ++row) {
    float* p = planes + static_cast<std::size_t>(row) * width;
    std::reverse(p, p + width);
  }
}

void flip_rows(float* pixels, PixelLayout layout, int width, int height) {
  const bool packed = layout == PixelLayout::Packed;
  const std::size_t row = static_cast<std::size_t>(width) * (packed ? 3 : 1);
  const std::size_t plane = row * height;
  for (int p = 0; p < (packed ? 1 : 3); ++p) {
    float* base = pixels + p * plane;
    for (int y = 0; y < height / 2; ++y) {
      std::swap_ranges(base + y * row, base + (y + 1) * row, base + (height - 1 - y) * row);
    }
  }
}

namespace {

template <class T>
void fill_box(T* out, const TransformSpec& s, const ItemPlan& p, const T (&value)[3]) {
  const std::size_t w = static_cast<std::size_t>(s.width), n = w * s.height;
  for (int y = p.erase_y; y < p.erase_y + p.erase_h; ++y) {
    for (int x = p.erase_x; x < p.erase_x + p.erase_w; ++x) {
      for (int c = 0; c < 3; ++c) {
        const std::size_t at = s.layout == Layout::NCHW ? c * n + y * w + x : (y * w + x) * 3 + c;
        out[at] = value[c];
      }
    }
  }
}

}  // namespace

void erase_output(std::uint8_t* slot, const TransformSpec& s, const ItemPlan& p) {
  const std::array<float, 3>& v = s.erase_value;
  switch (s.dtype) {
    case OutputType::Float32: {
      const float value[3] = {v[0], v[1], v[2]};
      fill_box(reinterpret_cast<float*>(slot), s, p, value);
      break;
    }
    case OutputType::Float16: {
      const std::uint16_t value[3] = {float_to_half(v[0]), float_to_half(v[1]), float_to_half(v[2])};
      fill_box(reinterpret_cast<std::uint16_t*>(slot), s, p, value);
      break;
    }
    case OutputType::UInt8: {
      const ToByte to_byte;
      const std::uint8_t value[3] = {to_byte(v[0]), to_byte(v[1]), to_byte(v[2])};
      fill_box(slot, s, p, value);
      break;
    }
  }
}

}  // namespace fastimg::detail
