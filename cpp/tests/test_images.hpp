// Test helpers: owned images with deterministic content, and views into them.
#pragma once

#include <cstdint>
#include <vector>

#include "fastimg/image_view.hpp"

namespace fastimg::test {

struct Image {
  int width, height, channels;
  std::ptrdiff_t stride;
  std::vector<std::uint8_t> pixels;

  // `padding` extra bytes per row make the view row-strided, like a slice of a wider image.
  Image(int w, int h, int c, int padding = 0)
      : width(w),
        height(h),
        channels(c),
        stride(static_cast<std::ptrdiff_t>(w) * c + padding),
        pixels(static_cast<std::size_t>(stride) * h, 0) {}

  std::uint8_t& at(int x, int y, int ch) { return pixels[static_cast<std::size_t>(y * stride + x * channels + ch)]; }
  std::uint8_t at(int x, int y, int ch) const {
    return pixels[static_cast<std::size_t>(y * stride + x * channels + ch)];
  }
  ImageView view() { return {pixels.data(), width, height, channels, stride}; }
  ConstImageView cview() const { return {pixels.data(), width, height, channels, stride}; }

  // Bytes of the image rows only (padding excluded), for comparisons.
  std::vector<std::uint8_t> packed() const {
    std::vector<std::uint8_t> out;
    for (int y = 0; y < height; ++y) {
      const auto* row = pixels.data() + y * stride;
      out.insert(out.end(), row, row + static_cast<std::ptrdiff_t>(width) * channels);
    }
    return out;
  }
};

// Smooth gradients plus a hashed texture: every channel differs, nothing is constant.
inline Image textured(int w, int h, int c, int padding = 0, std::uint32_t salt = 0) {
  Image img(w, h, c, padding);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) {
        std::uint32_t z = static_cast<std::uint32_t>(x * 73856093u ^ y * 19349663u ^ (ch + salt) * 83492791u);
        z ^= z >> 13;
        z *= 0x5bd1e995u;
        const int smooth = (x * 255 / w + y * 127 / h + ch * 40) % 256;
        img.at(x, y, ch) = static_cast<std::uint8_t>((smooth * 3 + static_cast<int>(z >> 24)) / 4);
      }
  return img;
}

// Gradients only: what lossy codecs keep almost exactly.
inline Image smooth(int w, int h, int c) {
  Image img(w, h, c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch)
        img.at(x, y, ch) = static_cast<std::uint8_t>(40 + (x * 120 / w + y * 80 / h + ch * 10));
  return img;
}

}  // namespace fastimg::test
