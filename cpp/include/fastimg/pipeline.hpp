// The fused pipeline: encoded image -> planned crop in source coordinates -> reduced-scale region decode
// -> resample -> flip -> colour jitter -> normalise, written straight into one slot of a batch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fastimg/decode.hpp"
#include "fastimg/sources.hpp"

namespace fastimg {

enum class ResizeMode { None, ShorterSide, Exact };
enum class CropMode { None, Center, RandomResized, Random };
enum class OutputType { Float32, Float16, UInt8 };
enum class Layout { NCHW, NHWC };
// Resampling kernels with Pillow's definitions (triangle; cubic with a = -0.5; nearest = the source pixel
// under each output pixel's centre). Antialiased kernels widen with the shrink factor, as Pillow does.
enum class Filter { Bilinear, Bicubic, Nearest };

// What each image becomes. Plain data; validate() before use. Sizes are (height, width) as in torchvision.
struct TransformSpec {
  int height = 224;
  int width = 224;
  ResizeMode resize = ResizeMode::None;
  int resize_short = 0;                     // ShorterSide: torchvision Resize(int)
  int resize_max = 0;                       // ShorterSide: Resize(int, max_size=...) when > 0
  int resize_height = 0, resize_width = 0;  // Exact: Resize((h, w))
  CropMode crop = CropMode::None;           // None: stretch (or the Exact resize) to height x width
  double scale_min = 0.08, scale_max = 1.0;
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
  int crop_padding = 0;    // Random: torchvision RandomCrop(size, padding=N): N zero pixels around the image first
  double hflip = 0.0;      // probability
  double vflip = 0.0;      // probability (RandomVerticalFlip)
  double grayscale = 0.0;  // probability (RandomGrayscale; 1: Grayscale(3)), after the colour jitter
  // RandomErasing on the finished output: probability, area and aspect ranges, the value per channel in the
  // output's units (after normalisation; uint8 outputs round and clip it).
  double erase = 0.0;
  double erase_scale_min = 0.02, erase_scale_max = 0.33, erase_ratio_min = 0.3, erase_ratio_max = 3.3;
  std::array<float, 3> erase_value{0.f, 0.f, 0.f};
  // TrivialAugmentWide: one entry per (op, magnitude bin, sign), 8 doubles each (kind and parameters, worked
  // out by src/fastimg/_autoaugment.py); empty: none. Applied to the output-sized image after the crop and
  // flips, before the colour jitter.
  std::vector<double> augment_table;
  int augment_bins = 0;
  int augment_steps = 1;  // entries drawn and applied in turn (RandAugment's num_ops), 1..4
  // AutoAugment: per (sub-policy, step) the probability of applying it; non-empty: a sample draws a
  // sub-policy, and each of its two steps applies with that probability (the table holds one entry per
  // (sub-policy, step, sign)).
  std::vector<double> augment_policy;
  double brightness = 0.0, contrast = 0.0, saturation = 0.0;
  double hue = 0.0;  // ColorJitter hue: a shift drawn from [-hue, hue], 0..0.5
  // Float outputs: (pixel / 255 - mean) / std; mean 0 and std 1 scale to 0..1. UInt8 stores pixels.
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> std{1.f, 1.f, 1.f};
  OutputType dtype = OutputType::Float32;
  Layout layout = Layout::NCHW;
  Filter filter = Filter::Bilinear;
  bool antialias = true;  // Pillow / torchvision: the kernel widened by the shrink (not for Nearest)
  // Reference pixels: no reduced-scale (DCT) decode, the accurate IDCT and the RGB path, so output matches
  // Pillow's full decode + resize (torchvision's PIL path) within a level. Incompatible with fast_dct.
  bool apply_exif_orientation = false;
  bool exact = false;
  bool fast_dct = false;  // JPEG: JDCT_IFAST instead of the accurate IDCT
  DecodeLimits limits;

  void validate() const;  // throws InvalidArgument
  std::size_t item_bytes() const;
};

// A real-valued crop rectangle in displayed-image pixels (pixel i covers [i, i + 1)) and the random
// choices for one sample.
struct ItemPlan {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool flip = false;
  // exact mode: Pillow's resize of this item runs its vertical pass first (see pillow_height_first).
  bool height_first = false;
  double brightness = 1.0, contrast = 1.0, saturation = 1.0, hue = 0.0;
  // The first jitter_steps of: 0 brightness, 1 contrast, 2 saturation, 3 hue (4 steps when hue jitters).
  std::array<int, 4> jitter_order{0, 1, 2, 3};
  int jitter_steps = 3;
  // A crop that reaches past the image (CenterCrop larger than it, RandomCrop's padding): torchvision pads
  // with zeros. The image then covers output columns [pad_x, pad_x + inner_w) and rows [pad_y, pad_y +
  // inner_h) (displayed; possibly none of them).
  bool padded = false;
  int pad_x = 0, pad_y = 0, inner_w = 0, inner_h = 0;
  bool vflip = false, gray = false;
  int erase_x = 0, erase_y = 0, erase_w = 0, erase_h = 0;  // erase_w == 0: nothing erased
  std::array<int, 4> augments{-1, -1, -1, -1};             // the augment_table entries drawn (op, bin, sign), in order
  int augment_count = 0;
};

// Whether Pillow (13 and later) resizes in_w x in_h to out_w x out_h with its vertical pass first: when the
// height shrinks by more than twice as many pixels as the width (found by probing Pillow 13.0; Pillow 12
// and earlier always ran the horizontal pass first). The order decides how the passes' uint8 rounding
// falls, so exact mode follows it.
bool pillow_height_first(int in_w, int in_h, int out_w, int out_h);

// Plans sample `index` of epoch `epoch` for a width x height (displayed) image. Depends on nothing else:
// not on threads, batch position or history. Throws InvalidArgument when the image cannot be cropped.
ItemPlan plan_item(int width, int height, const TransformSpec& spec, std::uint64_t seed, std::uint64_t epoch,
                   std::int64_t index);

// Streams of the per-sample generator (see SampleRng); exposed so tests can replay the draws.
constexpr std::uint64_t kStreamCrop = 1, kStreamFlip = 2, kStreamJitter = 3, kStreamVflip = 4, kStreamGray = 5,
                        kStreamErase = 6, kStreamAugment = 7;
inline std::uint64_t stream_id(std::uint64_t epoch, std::uint64_t stream) { return (epoch << 2) | stream; }

struct PipelineResult {
  std::vector<std::size_t> good;  // positions whose slot holds a finished item, ascending
  std::vector<ItemError> errors;
  std::vector<ItemError> warnings;  // delivered items with accepted damage (limits.strict = false)
};

// Runs the pipeline for every source into `out` (sources.size() slots of spec.item_bytes()). Slot i is
// for sources[i]; with `compact`, good items are then moved down so slots [0, good.size()) hold them in
// order. indices[i] is the sample index used for randomness. Thread-safe; the GIL is not needed.
PipelineResult run_pipeline(const std::vector<Source>& sources, const std::vector<std::int64_t>& indices,
                            const TransformSpec& spec, std::uint64_t seed, std::uint64_t epoch, std::uint8_t* out,
                            int threads, bool stop_on_error, bool compact);

struct DecodeBatchResult {
  std::vector<DecodedImage> images;  // empty images where errors has an entry
  std::vector<ItemError> errors;
  std::vector<ItemError> warnings;  // as PipelineResult::warnings
};

// decode_image over a batch, in parallel.
DecodeBatchResult decode_batch(const std::vector<Source>& sources, const DecodeOptions& options, int threads,
                               bool stop_on_error);

}  // namespace fastimg
