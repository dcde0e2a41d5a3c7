// Internal: the ops of torchvision's AutoAugment family (TrivialAugmentWide, RandAugment, AutoAugment) on the
// output-sized image, as
// torchvision's PIL path applies them: Pillow's nearest-neighbour affine transform (its fixed-point and
// scale paths), transposes, ImageEnhance blends, the SMOOTH filter of Sharpness and the ImageOps lookup
// tables. The parameters come worked out from Python (src/fastimg/_autoaugment.py).
#pragma once

#include <cstddef>

namespace fastimg::detail {

// Kinds of table entry (the order of _autoaugment.py's constants).
enum class AugmentKind {
  Identity,
  Affine,
  Brightness,
  Color,
  Contrast,
  Sharpness,
  Posterize,
  Solarize,
  AutoContrast,
  Equalize,
  Rotate90,
  Rotate270,
  Invert
};

// Pillow's ImageEnhance on RGB planes of uint8 values, as torchvision's PIL path applies it (ColorJitter in
// exact mode, the policies' Brightness/Contrast/Color): Brightness blends with black, Contrast with the
// rounded mean of Pillow's L, Color with each pixel's L.
enum class Enhance { Brightness, Contrast, Color };
void pillow_enhance(float* planes, std::size_t pixels, Enhance which, float factor);

// Applies the entry (kind, then its parameters) to RGB planes of uint8 values, width x height, in place.
void apply_augment(float* planes, int width, int height, const double* entry);

}  // namespace fastimg::detail
