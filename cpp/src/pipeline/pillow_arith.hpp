// Internal: Pillow's 8-bit arithmetic where exact mode must reproduce it byte for byte (torchvision's PIL path).
#pragma once

#include <immintrin.h>
#include <cmath>
#include <cstdint>

namespace fastimg::detail {

// Pillow's ImagingBlend on 8-bit bands: (int)in1 + alpha * ((int)in2 - (int)in1) in float, cast to UINT8
// (truncation) when alpha is in [0, 1], clipped to 0..255 first otherwise.
// (The int conversion truncates as std::trunc does in this range, without a libm call per value on baseline
// x86-64.)
inline float pillow_blend(float in1, float in2, float alpha) {
  const float product = alpha * (in2 - in1);
  const float t = in1 + product;
  if (alpha >= 0.f && alpha <= 1.f) return static_cast<float>(static_cast<int>(t));
  return t <= 0.f ? 0.f : t >= 255.f ? 255.f : static_cast<float>(static_cast<int>(t));
}

// Four values clipped to 0..255 and truncated to whole numbers, as Pillow clips and casts to UINT8 (NaN
// becomes 0: SSE's max returns its second operand then). SSE2, x86-64's baseline: GCC leaves the scalar
// clip-and-cast loops branchy, 1.6-6 ns a value.
inline __m128 clip_truncate4(__m128 v) {
  const __m128 clipped = _mm_min_ps(_mm_max_ps(v, _mm_setzero_ps()), _mm_set1_ps(255.f));
  return _mm_cvtepi32_ps(_mm_cvttps_epi32(clipped));
}

// Pillow's RGB -> L (ITU-R 601-2 luma in 16-bit fixed point, rounded).
inline float pillow_l(float r, float g, float b) {
  const auto v = static_cast<std::uint32_t>(r) * 19595u + static_cast<std::uint32_t>(g) * 38470u +
                 static_cast<std::uint32_t>(b) * 7471u + 0x8000u;
  return static_cast<float>(v >> 16);
}

}  // namespace fastimg::detail
