// Internal: EXIF orientation (tag 0x0112) and the geometry of the eight orientations.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fastimg/image_view.hpp"

namespace fastimg::detail {

// Orientation 1..8 from the payload of an APP1 segment ("Exif\0\0" + TIFF), or 0 when absent or
// malformed. Bounds-checked: any input is safe.
int exif_orientation(const std::uint8_t* data, std::size_t size);

// The one table of the eight orientations: the stored image becomes the displayed one by a transpose
// (swap), then a left-right flip of the result (flip_x), then an upside-down flip (flip_y). Every user of
// orientation (crop rectangles, uint8 images, float pixels) goes through it.
struct OrientationOps {
  bool swap = false, flip_x = false, flip_y = false;
};
inline OrientationOps orientation_ops(int orientation) {
  switch (orientation) {
    case 2: return {false, true, false};
    case 3: return {false, true, true};
    case 4: return {false, false, true};
    case 5: return {true, false, false};
    case 6: return {true, true, false};
    case 7: return {true, true, true};
    case 8: return {true, false, true};
    default: return {};
  }
}

// Orientations 5..8 swap width and height.
inline bool swaps_axes(int orientation) { return orientation_ops(orientation).swap; }

// A rectangle with real-valued edges (pixel i covers [i, i + 1)).
struct RectF {
  double x0, y0, x1, y1;
};

// Maps a rectangle of the displayed (oriented) image to the stored image of size width x height.
RectF stored_rect(const RectF& displayed, int orientation, int stored_width, int stored_height);

// Writes `src` (stored orientation) into `dst` so that dst shows it displayed; dst has the swapped size
// for orientations 5..8. Same channel count.
void apply_orientation(const ConstImageView& src, const ImageView& dst, int orientation);

}  // namespace fastimg::detail
