#include <algorithm>
#include <cmath>

#include "fastimg/errors.hpp"
#include "fastimg/pipeline.hpp"
#include "fastimg/random.hpp"

namespace fastimg {
namespace {

// Python's round(): halves go to the even neighbour, as in torchvision's geometry.
int round_half_even(double v) { return static_cast<int>(std::nearbyint(v)); }

// torchvision.transforms.RandomResizedCrop.get_params, with its torch draws replaced by ours in the same
// order: per attempt u(scale), u(log ratio); then the top and left offsets.
void random_resized_crop(int width, int height, const TransformSpec& s, SampleRng& rng, ItemPlan& p) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(s.ratio_min), log_hi = std::log(s.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.uniform(s.scale_min, s.scale_max);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    const int w = round_half_even(std::sqrt(target_area * aspect));
    const int h = round_half_even(std::sqrt(target_area / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int top = static_cast<int>(std::floor(rng.uniform() * (height - h + 1)));
      const int left = static_cast<int>(std::floor(rng.uniform() * (width - w + 1)));
      p.x0 = left;
      p.y0 = top;
      p.x1 = left + w;
      p.y1 = top + h;
      return;
    }
  }
  // Fallback: a central crop of the whole image clamped to the ratio range.
  const double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < s.ratio_min) {
    h = round_half_even(w / s.ratio_min);
  } else if (in_ratio > s.ratio_max) {
    w = round_half_even(h * s.ratio_max);
  }
  const int top = (height - h) / 2, left = (width - w) / 2;
  p.x0 = left;
  p.y0 = top;
  p.x1 = left + w;
  p.y1 = top + h;
}

void center_crop(double width, double height, int out_w, int out_h, ItemPlan& p) {
  // torchvision center_crop: offsets int(round((size - crop) / 2)).
  const int top = round_half_even((height - out_h) / 2.0);
  const int left = round_half_even((width - out_w) / 2.0);
  p.x0 = left;
  p.y0 = top;
  p.x1 = left + out_w;
  p.y1 = top + out_h;
}

// torchvision Resize(int, max_size): the shorter side becomes `size`, the longer int(size * long / short);
// when that exceeds max_size (> 0), the longer becomes max_size and the shorter int(max_size * short / long).
void resized_size(int width, int height, int size, int max_size, int& rw, int& rh) {
  const bool wide = width > height;
  int new_short = size;
  int new_long = static_cast<int>(static_cast<double>(size) * (wide ? width : height) / (wide ? height : width));
  if (max_size > 0 && new_long > max_size) {
    new_short = static_cast<int>(static_cast<double>(max_size) * new_short / new_long);
    new_long = max_size;
  }
  rw = wide ? new_long : new_short;
  rh = wide ? new_short : new_long;
}

// torchvision's CenterCrop of an image smaller than the crop: pad to the crop with zeros, left and top
// (crop - size) // 2, then center-crop the other side if it is larger. The box is the part of the image
// the output shows; the output shows it at (pad_x, pad_y).
void padded_center_crop(int rw, int rh, int out_w, int out_h, ItemPlan& p) {
  const bool pad_w = out_w > rw, pad_h = out_h > rh;
  const int left = pad_w ? 0 : round_half_even((rw - out_w) / 2.0);
  const int top = pad_h ? 0 : round_half_even((rh - out_h) / 2.0);
  p.padded = true;
  p.inner_w = pad_w ? rw : out_w;
  p.inner_h = pad_h ? rh : out_h;
  p.pad_x = pad_w ? (out_w - rw) / 2 : 0;
  p.pad_y = pad_h ? (out_h - rh) / 2 : 0;
  p.x0 = left;
  p.y0 = top;
  p.x1 = left + p.inner_w;
  p.y1 = top + p.inner_h;
}

// torchvision RandomCrop(size, padding): the image with `pad` zero pixels around, cropped at a uniform
// offset (top drawn first). The box is the part of the image the crop shows.
void random_crop(int width, int height, const TransformSpec& s, SampleRng& rng, ItemPlan& p) {
  const int pad = s.crop_padding;
  FASTIMG_CHECK(width + 2 * pad >= s.width && height + 2 * pad >= s.height, "image of ", width, "x", height,
                " (padded by ", pad, ") is smaller than the ", s.width, "x", s.height, " random crop");
  const auto top = static_cast<int>(rng.uniform_int(0, height + 2 * pad - s.height));
  const auto left = static_cast<int>(rng.uniform_int(0, width + 2 * pad - s.width));
  const int x0 = std::max(0, left - pad), x1 = std::min(width, left - pad + s.width);
  const int y0 = std::max(0, top - pad), y1 = std::min(height, top - pad + s.height);
  p.padded = pad > 0;
  p.inner_w = std::max(0, x1 - x0);
  p.inner_h = std::max(0, y1 - y0);
  p.pad_x = x0 - (left - pad);
  p.pad_y = y0 - (top - pad);
  p.x0 = x0;
  p.y0 = y0;
  p.x1 = std::max(x0, x1);
  p.y1 = std::max(y0, y1);
}

// torchvision RandomErasing.get_params on the output: ten tries at an area and log-uniform aspect, the
// first rectangle smaller than the output wins (rounded half to even, as Python's round); none: no erase.
void erase_box(const TransformSpec& s, SampleRng& rng, ItemPlan& p) {
  const double area = static_cast<double>(s.width) * s.height;
  const double lo = std::log(s.erase_ratio_min), hi = std::log(s.erase_ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(s.erase_scale_min, s.erase_scale_max);
    const double aspect = std::exp(rng.uniform(lo, hi));
    const int h = round_half_even(std::sqrt(target * aspect)), w = round_half_even(std::sqrt(target / aspect));
    if (!(h < s.height && w < s.width)) continue;
    p.erase_y = static_cast<int>(rng.uniform_int(0, s.height - h));
    p.erase_x = static_cast<int>(rng.uniform_int(0, s.width - w));
    p.erase_w = w;
    p.erase_h = h;
    return;
  }
}

}  // namespace

bool pillow_height_first(int in_w, int in_h, int out_w, int out_h) {
  return out_h < in_h && in_h - out_h > 2 * (in_w - out_w);
}

ItemPlan plan_item(int width, int height, const TransformSpec& s, std::uint64_t seed, std::uint64_t epoch,
                   std::int64_t index) {
  ItemPlan p;
  const auto sample = static_cast<std::uint64_t>(index);
  if (s.crop == CropMode::RandomResized) {
    SampleRng rng(seed, stream_id(epoch, kStreamCrop), sample);
    random_resized_crop(width, height, s, rng, p);
    p.height_first =
        pillow_height_first(static_cast<int>(p.x1 - p.x0), static_cast<int>(p.y1 - p.y0), s.width, s.height);
  } else if (s.crop == CropMode::Center) {
    // Resize first (in real-valued source coordinates), then crop the resized image.
    int rw = width, rh = height;
    if (s.resize == ResizeMode::ShorterSide) {
      resized_size(width, height, s.resize_short, s.resize_max, rw, rh);
    } else if (s.resize == ResizeMode::Exact) {
      rw = s.resize_width;
      rh = s.resize_height;
    }
    if (rw >= s.width && rh >= s.height) {
      center_crop(rw, rh, s.width, s.height, p);
    } else {
      padded_center_crop(rw, rh, s.width, s.height, p);
    }
    p.height_first = pillow_height_first(width, height, rw, rh);
    const double fx = static_cast<double>(width) / rw, fy = static_cast<double>(height) / rh;
    p.x0 *= fx;
    p.x1 *= fx;
    p.y0 *= fy;
    p.y1 *= fy;
  } else if (s.crop == CropMode::Random) {
    SampleRng rng(seed, stream_id(epoch, kStreamCrop), sample);
    random_crop(width, height, s, rng, p);
  } else {
    p.x1 = width;
    p.y1 = height;
    p.height_first = pillow_height_first(width, height, s.width, s.height);
  }
  if (s.hflip > 0) {
    SampleRng rng(seed, stream_id(epoch, kStreamFlip), sample);
    p.flip = rng.uniform() < s.hflip;
  }
  if (s.vflip > 0) {
    SampleRng rng(seed, stream_id(epoch, kStreamVflip), sample);
    p.vflip = rng.uniform() < s.vflip;
  }
  if (s.grayscale > 0) {
    SampleRng rng(seed, stream_id(epoch, kStreamGray), sample);
    p.gray = rng.uniform() < s.grayscale;
  }
  if (s.erase > 0) {
    SampleRng rng(seed, stream_id(epoch, kStreamErase), sample);
    if (rng.uniform() < s.erase) erase_box(s, rng, p);
  }
  if (!s.augment_table.empty()) {  // TrivialAugmentWide: an op, a magnitude bin and a sign, uniformly
    SampleRng rng(seed, stream_id(epoch, kStreamAugment), sample);
    const int ops = static_cast<int>(s.augment_table.size() / (8 * 2 * static_cast<std::size_t>(s.augment_bins)));
    if (!s.augment_policy.empty()) {  // AutoAugment: a sub-policy, then each step with its probability
      const auto policy =
          static_cast<int>(rng.uniform_int(0, static_cast<std::int64_t>(s.augment_policy.size() / 2) - 1));
      for (int k = 0; k < 2; ++k) {
        const double u = rng.uniform();
        const int sign = rng.uniform() < 0.5 ? 1 : 0;
        if (u <= s.augment_policy[static_cast<std::size_t>(policy * 2 + k)]) {
          p.augments[static_cast<std::size_t>(p.augment_count++)] = (policy * 2 + k) * 2 + sign;
        }
      }
    } else {
      for (int k = 0; k < s.augment_steps; ++k) {
        const auto op = static_cast<int>(rng.uniform_int(0, ops - 1));
        const auto bin = static_cast<int>(rng.uniform_int(0, s.augment_bins - 1));
        const int sign = rng.uniform() < 0.5 ? 1 : 0;
        p.augments[static_cast<std::size_t>(k)] = (op * s.augment_bins + bin) * 2 + sign;
      }
      p.augment_count = s.augment_steps;
    }
  }
  if (s.brightness > 0 || s.contrast > 0 || s.saturation > 0 || s.hue > 0) {
    SampleRng rng(seed, stream_id(epoch, kStreamJitter), sample);
    // A random order, as torchvision's ColorJitter (Fisher-Yates; hue is a fourth step only when it jitters,
    // so that transforms without it draw what they always drew).
    p.jitter_steps = s.hue > 0 ? 4 : 3;
    for (int i = p.jitter_steps - 1; i > 0; --i) std::swap(p.jitter_order[i], p.jitter_order[rng.uniform_int(0, i)]);
    auto factor = [&](double amount) { return amount > 0 ? rng.uniform(std::max(0.0, 1 - amount), 1 + amount) : 1.0; };
    p.brightness = factor(s.brightness);
    p.contrast = factor(s.contrast);
    p.saturation = factor(s.saturation);
    if (s.hue > 0) p.hue = rng.uniform(-s.hue, s.hue);
  }
  return p;
}

void TransformSpec::validate() const {
  FASTIMG_CHECK(height > 0 && width > 0 && height <= 65535 && width <= 65535, "size must be positive, got ", height,
                "x", width);
  FASTIMG_CHECK(scale_min > 0 && scale_min <= scale_max && scale_max <= 1.0, "scale must satisfy 0 < min <= max <= 1");
  FASTIMG_CHECK(ratio_min > 0 && ratio_min <= ratio_max, "ratio must satisfy 0 < min <= max");
  FASTIMG_CHECK(hflip >= 0 && hflip <= 1 && vflip >= 0 && vflip <= 1 && grayscale >= 0 && grayscale <= 1 &&
                    erase >= 0 && erase <= 1,
                "hflip, vflip, grayscale and erase must be probabilities");
  FASTIMG_CHECK(crop_padding >= 0 && (crop_padding == 0 || crop == CropMode::Random),
                "padding applies to the random crop and must be >= 0");
  FASTIMG_CHECK(augment_table.empty() ||
                    (augment_bins > 0 && augment_table.size() % (16 * static_cast<std::size_t>(augment_bins)) == 0),
                "augment table must hold 8 values per (op, bin, sign)");
  FASTIMG_CHECK(augment_steps >= 1 && augment_steps <= 4, "augment steps must be 1..4");
  FASTIMG_CHECK(augment_policy.empty() || (augment_bins == 1 && augment_policy.size() % 2 == 0 &&
                                           augment_table.size() == augment_policy.size() * 16),
                "an AutoAugment policy needs one table entry per (sub-policy, step, sign)");
  for (std::size_t i = 0; i < augment_table.size(); i += 8) {
    const double kind = augment_table[i];
    FASTIMG_CHECK(kind >= 0 && kind <= 12 && kind == std::floor(kind), "augment table: unknown kind ", kind);
    for (std::size_t k = 1; k < 8; ++k) FASTIMG_CHECK(std::isfinite(augment_table[i + k]), "augment table: not finite");
    if (kind == 6) FASTIMG_CHECK(augment_table[i + 1] >= 0 && augment_table[i + 1] <= 8, "posterize bits must be 0..8");
    if (kind == 10 || kind == 11) FASTIMG_CHECK(width == height, "augment table: a quarter turn needs a square output");
  }
  FASTIMG_CHECK(erase_scale_min > 0 && erase_scale_min <= erase_scale_max && erase_scale_max <= 1 &&
                    erase_ratio_min > 0 && erase_ratio_min <= erase_ratio_max,
                "erasing scale must satisfy 0 < min <= max <= 1 and ratio 0 < min <= max");
  FASTIMG_CHECK(brightness >= 0 && contrast >= 0 && saturation >= 0, "color jitter amounts must be >= 0");
  FASTIMG_CHECK(hue >= 0 && hue <= 0.5, "hue jitter must be in [0, 0.5]");
  for (float v : std) FASTIMG_CHECK(v > 0, "std must be positive");
  if (resize == ResizeMode::ShorterSide) FASTIMG_CHECK(resize_short > 0, "resize must be positive");
  FASTIMG_CHECK(resize_max == 0 || (resize == ResizeMode::ShorterSide && resize_max > resize_short),
                "max_size applies to a shorter-side resize and must exceed it");
  if (resize == ResizeMode::Exact) FASTIMG_CHECK(resize_height > 0 && resize_width > 0, "resize must be positive");
  FASTIMG_CHECK(limits.max_pixels > 0 && limits.max_scans > 0, "limits must be positive");
  FASTIMG_CHECK(!(exact && fast_dct), "exact=True decodes with the accurate IDCT: it cannot take fast_dct=True");
}

std::size_t TransformSpec::item_bytes() const {
  const std::size_t elem = dtype == OutputType::Float32 ? 4 : dtype == OutputType::Float16 ? 2 : 1;
  return static_cast<std::size_t>(height) * static_cast<std::size_t>(width) * 3 * elem;
}

}  // namespace fastimg
