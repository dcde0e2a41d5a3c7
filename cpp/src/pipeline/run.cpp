#include <algorithm>
#include <cmath>
#include <cstring>

#include "../codecs/exif.hpp"
#include "../codecs/region_decoder.hpp"
#include "augment.hpp"
#include "fastimg/errors.hpp"
#include "fastimg/parallel.hpp"
#include "fastimg/pipeline.hpp"
#include "finish.hpp"
#include "resample.hpp"

namespace fastimg {
namespace {

struct ItemScratch {
  detail::ResampleScratch resample;
  std::vector<float> packed, planes, turned, padded;
};

ItemScratch& thread_scratch() {
  thread_local ItemScratch scratch;
  return scratch;
}

// The source rectangle in the reduced image's pixels, and the output size before orientation.
struct Geometry {
  double x0, y0, x1, y1;
  int out_w, out_h;
};

// A YCbCr JPEG's planes, each resampled from its own grid (chroma at its subsampled resolution) to the
// output grid, left as YCbCr for conversion at output size: no chroma upsampling or colour conversion at
// source size.
void resample_planar(detail::RegionDecoder& decoder, const detail::OpenedImage& im, int factor, const Geometry& g,
                     const TransformSpec& spec, ItemScratch& scratch) {
  // The planes cover what the filters read: the box plus the filter's reach and two chroma samples (the
  // folded upsampling reads a sample's neighbour; a sample spans at most max_h x max_v pixels at any DCT
  // scale), in whole iMCUs. Tight, because every MCU more is entropy-decoded when restart intervals let
  // the decoder skip the rest.
  const double margin_x = detail::filter_reach(spec.filter, spec.antialias, (g.x1 - g.x0) / g.out_w) + 2.0 * im.max_h;
  const double margin_y = detail::filter_reach(spec.filter, spec.antialias, (g.y1 - g.y0) / g.out_h) + 2.0 * im.max_v;
  int image_w = 0, image_h = 0;
  decoder.reduced_size(factor, image_w, image_h);  // before decoding: libjpeg answers only until then
  const detail::DecodedPlanes planes = decoder.decode_planes(
      factor, static_cast<int>(std::floor(g.x0 - margin_x)), static_cast<int>(std::ceil(g.x1 + margin_x)),
      static_cast<int>(std::floor(g.y0 - margin_y)), static_cast<int>(std::ceil(g.y1 + margin_y)));
  const std::size_t n = static_cast<std::size_t>(g.out_w) * g.out_h;
  float* out = scratch.planes.data();
  const double dx = planes.x0, dy = planes.y0;
  for (int p = 0; p < 3; ++p) {
    const ConstImageView& plane = planes.planes[p];
    const detail::PlaneGrid grid{std::min(image_w - planes.x0, static_cast<int>(plane.width * planes.scale_x[p])),
                                 std::min(image_h - planes.y0, static_cast<int>(plane.height * planes.scale_y[p])),
                                 planes.scale_x[p], planes.scale_y[p]};
    detail::resample_plane(plane, grid, g.x0 - dx, g.y0 - dy, g.x1 - dx, g.y1 - dy, g.out_w, g.out_h, spec.filter,
                           spec.antialias, out + p * n, scratch.resample);
  }
}

// Any other image: decode the region the filter reads as packed RGB and resample it into scratch.packed.
void resample_packed(detail::RegionDecoder& decoder, int factor, const Geometry& g, const TransformSpec& spec,
                     bool height_first, ItemScratch& scratch) {
  int reduced_w = 0, reduced_h = 0;
  decoder.reduced_size(factor, reduced_w, reduced_h);
  const double margin_x = detail::filter_reach(spec.filter, spec.antialias, (g.x1 - g.x0) / g.out_w) + 1.0;
  const double margin_y = detail::filter_reach(spec.filter, spec.antialias, (g.y1 - g.y0) / g.out_h) + 1.0;
  const int ix0 = std::max(0, static_cast<int>(std::floor(g.x0 - margin_x)));
  const int ix1 = std::min(reduced_w, static_cast<int>(std::ceil(g.x1 + margin_x)));
  const int iy0 = std::max(0, static_cast<int>(std::floor(g.y0 - margin_y)));
  const int iy1 = std::min(reduced_h, static_cast<int>(std::ceil(g.y1 + margin_y)));
  const detail::DecodedRegion region = decoder.decode(factor, ix0, ix1, iy0, iy1);

  const std::size_t n = static_cast<std::size_t>(g.out_w) * g.out_h;
  scratch.packed.resize(3 * n + 4);
  float* px = scratch.packed.data();
  const double rx0 = g.x0 - region.x0, ry0 = g.y0 - region.y0, rx1 = g.x1 - region.x0, ry1 = g.y1 - region.y0;
  if (spec.exact) {
    ConstImageView view = region.view;
    double bx0 = rx0, by0 = ry0, bx1 = rx1, by1 = ry1;
    if (spec.crop == CropMode::RandomResized) {
      // torchvision crops before it resizes here: the filter sees only the (whole-pixel) crop box.
      const int cx = std::max(0, static_cast<int>(std::floor(rx0))),
                cy = std::max(0, static_cast<int>(std::floor(ry0)));
      view.data = view.row(cy) + static_cast<std::ptrdiff_t>(cx) * view.channels;
      view.width = std::min(view.width - cx, static_cast<int>(std::ceil(rx1)) - cx);
      view.height = std::min(view.height - cy, static_cast<int>(std::ceil(ry1)) - cy);
      bx0 -= cx, bx1 -= cx, by0 -= cy, by1 -= cy;
    }
    detail::resample_like_pillow(view, bx0, by0, bx1, by1, g.out_w, g.out_h, spec.filter, spec.antialias, height_first,
                                 px);
  } else {
    detail::resample_to_float(region.view, rx0, ry0, rx1, ry1, g.out_w, g.out_h, spec.filter, spec.antialias, px,
                              scratch.resample);
  }
  if (spec.filter == Filter::Bicubic && !spec.exact) {  // overshoot: Pillow's output is uint8, clipped to 0..255
    for (std::size_t i = 0; i < 3 * n; ++i) px[i] = std::min(255.f, std::max(0.f, px[i]));
  }
}

// Whether the item takes the planar path: a YCbCr JPEG shrunk by an averaging filter. Raw-data decoding
// skips the IDCT outside the region as the RGB path does, and saves upsampling, colour conversion and two
// channels' worth of resampling at source size. A crop kept at its own size goes the RGB way: libjpeg's own
// pixels, exactly; so do exact mode (Pillow's arithmetic on RGB) and nearest (source pixels).
bool planar_pays(const detail::OpenedImage& im, const Geometry& g, const TransformSpec& spec) {
  if (!im.planar || spec.exact || spec.filter == Filter::Nearest) return false;
  return g.x1 - g.x0 > g.out_w || g.y1 - g.y0 > g.out_h;
}

// The item's pixels as RGB planes (converted in place, or into scratch.planes); `layout` becomes Planes.
float* rgb_planes(float* pixels, detail::PixelLayout& layout, std::size_t all, ItemScratch& scratch) {
  if (layout == detail::PixelLayout::YCbCr) {
    detail::ycbcr_to_rgb(pixels, all);
  } else if (layout == detail::PixelLayout::Packed) {
    scratch.planes.resize(3 * all);
    detail::to_planes(pixels, all, scratch.planes.data());
    pixels = scratch.planes.data();
  }
  layout = detail::PixelLayout::Planes;
  return pixels;
}

// A padded center crop: the resampled image (displayed orientation, plan.inner_w x plan.inner_h) placed at
// (pad_x, pad_y) in RGB planes of the output size, zeros around, as torchvision pads before it crops.
// `layout` becomes Planes.
float* embed_padded(float* pixels, detail::PixelLayout& layout, const ItemPlan& plan, const TransformSpec& spec,
                    ItemScratch& scratch) {
  const std::size_t inner = static_cast<std::size_t>(plan.inner_w) * plan.inner_h;
  const float* planes = rgb_planes(pixels, layout, inner, scratch);
  const std::size_t all = static_cast<std::size_t>(spec.width) * spec.height;
  scratch.padded.assign(3 * all, 0.f);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < plan.inner_h; ++y) {
      const float* from = planes + c * inner + static_cast<std::size_t>(y) * plan.inner_w;
      float* to = scratch.padded.data() + c * all + static_cast<std::size_t>(y + plan.pad_y) * spec.width + plan.pad_x;
      std::copy(from, from + plan.inner_w, to);
    }
  }
  return scratch.padded.data();
}

// The output-sized steps, in torchvision's order: colour jitter, grayscale (on RGB planes), the flips
// (ridden by the output write, or on the planes), then RandomErasing on the written slot. `pixels` null: an
// all-zero image (a crop that shows only padding).
void finish_item(float* pixels, detail::PixelLayout layout, const ItemPlan& plan, const TransformSpec& spec,
                 std::uint8_t* slot) {
  ItemScratch& scratch = thread_scratch();
  const std::size_t all = static_cast<std::size_t>(spec.width) * spec.height;
  if (pixels == nullptr) {
    scratch.padded.assign(3 * all, 0.f);
    pixels = scratch.padded.data();
  }
  bool flip = plan.flip;
  bool vflip = plan.vflip;
  if (plan.augment_count > 0) {  // torchvision augments the flipped uint8 image: flip first, round to bytes
    if (layout == detail::PixelLayout::YCbCr) {
      detail::ycbcr_to_rgb_bytes(pixels, all);
      layout = detail::PixelLayout::Planes;
    } else {
      pixels = rgb_planes(pixels, layout, all, scratch);
      detail::round_to_bytes(pixels, 3 * all);
    }
    if (flip) detail::flip_columns(pixels, spec.width, spec.height);
    if (vflip) detail::flip_rows(pixels, layout, spec.width, spec.height);
    flip = vflip = false;
    for (int k = 0; k < plan.augment_count; ++k) {
      const auto entry = static_cast<std::size_t>(plan.augments[static_cast<std::size_t>(k)]) * 8;
      detail::apply_augment(pixels, spec.width, spec.height, spec.augment_table.data() + entry);
    }
  }
  if (detail::has_jitter(plan) || plan.gray) {  // these work on RGB planes; otherwise conversion rides the write
    pixels = rgb_planes(pixels, layout, all, scratch);
    if (spec.exact) {
      detail::color_jitter_pillow(pixels, spec.width, spec.height, plan);
    } else {
      detail::color_jitter(pixels, spec.width, spec.height, plan);
    }
    if (plan.gray) detail::grayscale(pixels, all, spec.exact);
  }
  if (vflip) detail::flip_rows(pixels, layout, spec.width, spec.height);
  detail::write_output(pixels, layout, spec, flip, slot);
  if (plan.erase_w > 0) detail::erase_output(slot, spec, plan);
}

// One item, from encoded bytes to its output slot.
void run_item(const std::uint8_t* data, std::size_t size, const TransformSpec& spec, std::uint64_t seed,
              std::uint64_t epoch, std::int64_t index, std::uint8_t* slot) {
  detail::RegionDecoder& decoder = detail::thread_region_decoder();
  const detail::OpenedImage im =
      decoder.open(data, size, PixelFormat::RGB, spec.apply_exif_orientation, spec.limits, spec.fast_dct);
  const bool swap = detail::swaps_axes(im.orientation);
  const int shown_w = swap ? im.height : im.width, shown_h = swap ? im.width : im.height;
  const ItemPlan plan = plan_item(shown_w, shown_h, spec, seed, epoch, index);
  const detail::RectF rect =
      detail::stored_rect({plan.x0, plan.y0, plan.x1, plan.y1}, im.orientation, im.width, im.height);
  // The resampled size: the output, or the part of it a padded center crop shows the image in.
  const bool padded = plan.padded;
  const int view_w = padded ? plan.inner_w : spec.width, view_h = padded ? plan.inner_h : spec.height;
  if (padded && (view_w == 0 || view_h == 0)) {  // the crop shows only padding
    finish_item(nullptr, detail::PixelLayout::Planes, plan, spec, slot);
    return;
  }
  const int out_w = swap ? view_h : view_w, out_h = swap ? view_w : view_h;

  // The largest reduction (DCT scaling for JPEG) that keeps the crop at least as large as the output.
  // Nearest keeps source pixels, so it never takes an averaging reduction; exact mode decodes at full size.
  const bool may_reduce = !spec.exact && spec.filter != Filter::Nearest;
  const int factor = !may_reduce ? 1 : decoder.largest_reduction([&](int f, int, int) {
    return (rect.x1 - rect.x0) / f >= out_w && (rect.y1 - rect.y0) / f >= out_h;
  });
  // Reduced pixel i covers stored pixels [i * factor, (i + 1) * factor); the last one may be partial.
  const double f = factor;
  const Geometry g{rect.x0 / f, rect.y0 / f, rect.x1 / f, rect.y1 / f, out_w, out_h};

  ItemScratch& scratch = thread_scratch();
  const std::size_t n = static_cast<std::size_t>(out_w) * out_h;
  detail::PixelLayout layout = detail::PixelLayout::Packed;
  float* pixels = nullptr;
  if (planar_pays(im, g, spec)) {
    scratch.planes.resize(3 * n);
    resample_planar(decoder, im, factor, g, spec, scratch);
    layout = detail::PixelLayout::YCbCr;
    pixels = scratch.planes.data();
  } else {
    // Pillow decides its pass order on the displayed image: across a quarter turn its vertical pass is ours
    // along rows.
    resample_packed(decoder, factor, g, spec, plan.height_first != swap, scratch);
    pixels = scratch.packed.data();
  }
  if (im.orientation != 1) {
    scratch.turned.resize(3 * n);
    if (layout == detail::PixelLayout::Packed) {
      detail::orient_floats(pixels, out_w, out_h, 3, im.orientation, scratch.turned.data());
    } else {
      for (int p = 0; p < 3; ++p) {
        detail::orient_floats(pixels + p * n, out_w, out_h, 1, im.orientation, scratch.turned.data() + p * n);
      }
    }
    pixels = scratch.turned.data();
  }
  if (padded) pixels = embed_padded(pixels, layout, plan, spec, scratch);
  finish_item(pixels, layout, plan, spec, slot);
}

// The warnings recorded per position, in order (positions whose item failed have none).
std::vector<ItemError> collect_warnings(const std::vector<std::string>& per_item) {
  std::vector<ItemError> out;
  for (std::size_t i = 0; i < per_item.size(); ++i) {
    if (!per_item[i].empty()) out.push_back({i, ItemError::Kind::Decode, 0, per_item[i], {}});
  }
  return out;
}

std::vector<std::size_t> good_positions(std::size_t count, const std::vector<char>& done) {
  std::vector<std::size_t> good;
  for (std::size_t i = 0; i < count; ++i) {
    if (done[i]) good.push_back(i);
  }
  return good;
}

}  // namespace

PipelineResult run_pipeline(const std::vector<Source>& sources, const std::vector<std::int64_t>& indices,
                            const TransformSpec& spec, std::uint64_t seed, std::uint64_t epoch, std::uint8_t* out,
                            int threads, bool stop_on_error, bool compact) {
  spec.validate();
  FASTIMG_CHECK(indices.size() == sources.size(), "got ", sources.size(), " sources but ", indices.size(), " indices");
  const std::size_t item_bytes = spec.item_bytes();
  std::vector<char> done(sources.size(), 0);
  std::vector<std::string> warnings(sources.size());
  PipelineResult result;
  result.errors = run_items(sources.size(), resolve_num_threads(threads), stop_on_error, [&](std::size_t i) {
    take_decode_warning();  // none left over from a failed item
    with_source_bytes(sources[i], spec.limits.max_bytes, [&](const std::uint8_t* data, std::size_t size) {
      run_item(data, size, spec, seed, epoch, indices[i], out + i * item_bytes);
    });
    warnings[i] = take_decode_warning();
    done[i] = 1;
  });
  result.good = good_positions(sources.size(), done);
  result.warnings = collect_warnings(warnings);
  if (compact) {
    for (std::size_t k = 0; k < result.good.size(); ++k) {
      if (result.good[k] != k) std::memmove(out + k * item_bytes, out + result.good[k] * item_bytes, item_bytes);
    }
  }
  return result;
}

DecodeBatchResult decode_batch(const std::vector<Source>& sources, const DecodeOptions& options, int threads,
                               bool stop_on_error) {
  DecodeBatchResult result;
  result.images.resize(sources.size());
  std::vector<std::string> warnings(sources.size());
  result.errors = run_items(sources.size(), resolve_num_threads(threads), stop_on_error, [&](std::size_t i) {
    take_decode_warning();
    with_source_bytes(sources[i], options.limits.max_bytes, [&](const std::uint8_t* data, std::size_t size) {
      result.images[i] = decode_image(data, size, options);
    });
    warnings[i] = take_decode_warning();
  });
  result.warnings = collect_warnings(warnings);
  return result;
}

}  // namespace fastimg
