// Non-owning views of 8-bit interleaved images. The core's kernels read ConstImageView and write into
// caller-owned ImageView memory; nothing here allocates or frees.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastimg {

// `stride` is the distance in bytes between the starts of two rows (>= width * channels); pixels inside
// a row are packed (`channels` bytes each). Views are plain values: copying one never copies pixels.
struct ConstImageView {
  const std::uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
  std::ptrdiff_t stride = 0;

  const std::uint8_t* row(int y) const { return data + static_cast<std::ptrdiff_t>(y) * stride; }
  std::size_t row_bytes() const { return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels); }
};

struct ImageView {
  std::uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
  std::ptrdiff_t stride = 0;

  std::uint8_t* row(int y) const { return data + static_cast<std::ptrdiff_t>(y) * stride; }
  std::size_t row_bytes() const { return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels); }
  operator ConstImageView() const { return {data, width, height, channels, stride}; }
};

// A rectangle in pixel coordinates: top-left corner (x, y) and size.
struct Box {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// Throws InvalidArgument (naming `what`) unless the view is non-empty, has 1, 3 or 4 channels, a stride
// that holds a whole row and a non-null data pointer.
void check_view(const ConstImageView& view, const char* what);

}  // namespace fastimg
