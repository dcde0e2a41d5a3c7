// Internal: the last steps of an item on float pixels (0..255): colour conversion, orientation, colour
// jitter, and the single pass that flips, normalises and writes the output dtype and layout.
#pragma once

#include <cstdint>
#include <vector>

#include "fastimg/pipeline.hpp"

namespace fastimg::detail {

// How an item's three channels are held: R, G, B planes (each width x height, row-major, one after the
// other), Y, Cb, Cr planes likewise, or packed RGB (HWC).
enum class PixelLayout { Planes, YCbCr, Packed };

// JFIF's YCbCr -> RGB (libjpeg's constants) on planes, in place, clamped to 0..255 as a decoder's
// 8-bit output is.
void ycbcr_to_rgb(float* planes, std::size_t pixels);

// Packed HWC (3 channels) to the three planes.
void to_planes(const float* packed, std::size_t pixels, float* planes);

// Each value clamped to 0..255 and rounded half up to a whole number, as a uint8 image holds it.
void round_to_bytes(float* values, std::size_t n);

// ycbcr_to_rgb, then round_to_bytes, in one pass.
void ycbcr_to_rgb_bytes(float* planes, std::size_t pixels);

// Reorders a width x height float image (stored orientation) into `dst` as displayed.
void orient_floats(const float* src, int width, int height, int channels, int orientation, float* dst);

// torchvision ColorJitter's brightness, contrast and saturation in plan.jitter_order on RGB planes,
// clamping to the valid range after each step as torchvision does on float tensors.
void color_jitter(float* planes, int width, int height, const ItemPlan& plan);

// The same steps on uint8-valued RGB planes with the arithmetic of torchvision's PIL path (Pillow's
// ImageEnhance: Image.blend in float, truncated to uint8, clipped when extrapolating; the contrast mean and
// the saturation grey from Pillow's "L" conversion): exact mode's jitter.
void color_jitter_pillow(float* planes, int width, int height, const ItemPlan& plan);

// torchvision's Grayscale(3) on RGB planes: every channel the luma (exact: Pillow's "L" conversion).
void grayscale(float* planes, std::size_t pixels, bool exact);

// A horizontal flip of RGB planes in place (before ops that do not commute with it).
void flip_columns(float* planes, int width, int height);

// RandomVerticalFlip: the rows of a width x height image in `layout`, in place.
void flip_rows(float* pixels, PixelLayout layout, int width, int height);

// RandomErasing: the item's erase box set to the spec's erase value in the written output slot.
void erase_output(std::uint8_t* slot, const TransformSpec& s, const ItemPlan& p);

// Writes the item into its output slot: optional horizontal flip, (v / 255 - mean) / std for floats,
// rounding for uint8, NCHW or NHWC. YCbCr is converted as ycbcr_to_rgb would, on the way.
void write_output(const float* pixels, PixelLayout layout, const TransformSpec& spec, bool flip, std::uint8_t* slot);

// Whether color_jitter changes anything for this item.
bool has_jitter(const ItemPlan& plan);

// IEEE half from float, rounding to nearest even (also exposed for tests).
std::uint16_t float_to_half(float value);

}  // namespace fastimg::detail
