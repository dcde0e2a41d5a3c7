// Internal: separable resampling (Pillow's filters) of a real-valued source rectangle to float pixels.
#pragma once

#include <vector>

#include "fastimg/image_view.hpp"
#include "fastimg/pipeline.hpp"

namespace fastimg::detail {

// Reused between calls on one thread so the hot path allocates nothing.
struct ResampleScratch {
  std::vector<int> x_start, x_count, y_start, y_count;
  std::vector<float> x_weights, y_weights, rows, out_row, band;
  int x_taps = 0, y_taps = 0;
};

// Per output position: first source index, tap count and weights normalised to sum 1 (Pillow's
// precompute_coeffs, with the box [in0, in1) given in real coordinates); returns the stride of `weights`
// per position. W is float or double.
template <typename W>
int coefficients(double in0, double in1, int in_size, int out_size, Filter filter, bool antialias,
                 std::vector<int>& start, std::vector<int>& count, std::vector<W>& weights);

// Resamples the rectangle [x0, x1) x [y0, y1) of `src` (pixel i covers [i, i + 1); taps are clipped to
// src) to out_width x out_height and writes float pixels 0..255, packed HWC, into `dst`.
// antialias = false: the kernel at its own width (bilinear: 2 taps, cheap; right when the shrink left is
// under 2x). antialias = true: the kernel widened by the shrink factor, as Pillow's resize. Bicubic can
// overshoot: values may leave 0..255 (the caller clamps, as Pillow's uint8 output does).
void vertical_pass(const std::uint8_t* first_row, std::ptrdiff_t stride, std::size_t len, const float* weights,
                   int taps, float* out);

void resample_to_float(const ConstImageView& src, double x0, double y0, double x1, double y1, int out_width,
                       int out_height, Filter filter, bool antialias, float* dst, ResampleScratch& scratch);

// How a plane's samples sit on the image grid: sample i covers image pixels [i * scale, (i + 1) * scale).
struct PlaneGrid {
  int image_width, image_height;
  double scale_x, scale_y;
};

// resample_to_float for one-channel planes (the JPEG pipeline's Y, Cb and Cr) whose samples may each
// cover several image pixels (subsampled chroma). The rectangle is in image pixels; a plane at half
// resolution is resampled as libjpeg's upsampling followed by the filter would (one set of weights).
// Writes `dst` row-major, in bands of `lanes` output rows (4: SSE, 8: AVX2; 0: the widest the CPU has)
// so that the horizontal pass is SIMD too.
void resample_plane(const ConstImageView& src, const PlaneGrid& grid, double x0, double y0, double x1, double y1,
                    int out_width, int out_height, Filter filter, bool antialias, float* dst, ResampleScratch& scratch,
                    int lanes = 0);

// Pillow's own arithmetic, for exact mode: fixed-point weights, one pass into uint8 lines, then the other,
// each rounded and clipped as Pillow's ImagingResample does, in Pillow's order (`height_first`: see
// pillow_height_first), so the output (whole numbers 0..255, as floats) matches Pillow's resize of the same
// pixels. Scalar: slower than resample_to_float. Same arguments and layout.
void resample_like_pillow(const ConstImageView& src, double x0, double y0, double x1, double y1, int out_width,
                          int out_height, Filter filter, bool antialias, bool height_first, float* dst);

// How far (in source pixels, at a shrink of `scale`) the filter reads beyond an output pixel's centre.
double filter_reach(Filter filter, bool antialias, double scale);

}  // namespace fastimg::detail
