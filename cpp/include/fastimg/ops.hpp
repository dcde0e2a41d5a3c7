// Batched image operations over views. Every function here:
//  - reads `src` views and writes into caller-allocated `dst` views (same count, checked);
//  - validates all arguments before touching any pixel and throws InvalidArgument naming the item;
//  - runs on `threads` threads (<= 0: the library default), across items, or across rows of one
//    image when there are fewer items than threads; the output bytes never depend on the thread count;
//  - is safe to call from several threads at once (no shared mutable state).
#pragma once

#include <cstdint>
#include <vector>

#include "fastimg/image_view.hpp"

namespace fastimg {

enum class Interpolation {
  Nearest,
  Bilinear,
  Bicubic,
  Area,
  Lanczos4,
  Auto,  // Area when both sides shrink, Bilinear otherwise.
};

// Resizes each src[i] to the size of dst[i]; channel counts must match.
void resize_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst,
                  Interpolation interpolation, int threads = 0);

// Copies the region of src[i] whose top-left corner is origins[i] and whose size is dst[i]'s size.
// The region must lie inside the source.
void crop_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst,
                const std::vector<Box>& regions, int threads = 0);

// For each i draws a top-left corner uniformly among all positions where a sizes[i] box fits in
// src[i], from (seed, i) alone. Returns boxes of the given sizes.
std::vector<Box> random_crop_boxes(const std::vector<ConstImageView>& src, const std::vector<Box>& sizes,
                                   std::uint64_t seed);

// Mean Rec.601 luma (0.299 R + 0.587 G + 0.114 B) of each image in 0..255 units; single-channel images
// give their mean, the alpha of 4-channel images is ignored. Sums are exact 64-bit integers, so the
// result is the correctly rounded mean whatever the size or thread count.
std::vector<double> luminance_batch(const std::vector<ConstImageView>& src, int threads = 0);

// Adds an opaque alpha channel (3 -> 4 channels) or drops it (4 -> 3); dst[i] has src[i]'s size.
void rgb_to_rgba_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst, int threads = 0);
void rgba_to_rgb_batch(const std::vector<ConstImageView>& src, const std::vector<ImageView>& dst, int threads = 0);

}  // namespace fastimg
