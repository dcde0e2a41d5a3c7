// Internal: the mean of every kx x ky block, for shrinking by whole-number factors (area resampling at
// those factors) at about the speed of reading the image once.
#pragma once

#include "fastimg/image_view.hpp"

namespace fastimg::detail {

// Whether `dst` is `src` shrunk by whole-number factors (at least one of them above 1).
bool is_whole_reduction(const ConstImageView& src, const ImageView& dst);

// dst(x, y) = mean of src over [x * kx, (x + 1) * kx) x [y * ky, (y + 1) * ky), rounded half up, where
// kx = src.width / dst.width and ky = src.height / dst.height (is_whole_reduction must hold).
// Output rows [y0, y1) only, so one large image can be split over threads.
void box_reduce(const ConstImageView& src, const ImageView& dst, int y0, int y1);

}  // namespace fastimg::detail
