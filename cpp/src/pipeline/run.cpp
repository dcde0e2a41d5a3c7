#include <algorithm>
#include <cmath>
#include <cstring>

#include "../codecs/exif.hpp"
#include "../codecs/region_decoder.hpp"
#include "fastimg/errors.hpp"
#include "fastimg/parallel.hpp"
#include "fastimg/pipeline.hpp"
#include "finish.hpp"
#include "resample.hpp"

namespace fastimg {
namespace {

struct ItemScratch {
  detail::ResampleScratch resample;
  std::vector<float> pixels, turned;
};

ItemScratch& thread_scratch() {
  thread_local ItemScratch scratch;
  return scratch;
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
  const int out_w = swap ? spec.height : spec.width, out_h = swap ? spec.width : spec.height;

  // The largest reduction (DCT scaling for JPEG) that keeps the crop at least as large as the output.
  // Nearest keeps source pixels, so it never takes an averaging reduction; exact mode decodes at full size.
  const bool may_reduce = !spec.exact && spec.filter != Filter::Nearest;
  const int factor = !may_reduce ? 1 : decoder.largest_reduction([&](int f, int, int) {
    return (rect.x1 - rect.x0) / f >= out_w && (rect.y1 - rect.y0) / f >= out_h;
  });
  int reduced_w = 0, reduced_h = 0;
  decoder.reduced_size(factor, reduced_w, reduced_h);
  // Reduced pixel i covers stored pixels [i * factor, (i + 1) * factor); the last one may be partial.
  const double fx = 1.0 / factor, fy = 1.0 / factor;
  const double x0 = rect.x0 * fx, x1 = rect.x1 * fx, y0 = rect.y0 * fy, y1 = rect.y1 * fy;

  // Decode only the rows and columns the filter reads.
  const double margin_x = detail::filter_reach(spec.filter, spec.antialias, (x1 - x0) / out_w) + 1.0;
  const double margin_y = detail::filter_reach(spec.filter, spec.antialias, (y1 - y0) / out_h) + 1.0;
  const int ix0 = std::max(0, static_cast<int>(std::floor(x0 - margin_x)));
  const int ix1 = std::min(reduced_w, static_cast<int>(std::ceil(x1 + margin_x)));
  const int iy0 = std::max(0, static_cast<int>(std::floor(y0 - margin_y)));
  const int iy1 = std::min(reduced_h, static_cast<int>(std::ceil(y1 + margin_y)));
  const detail::DecodedRegion region = decoder.decode(factor, ix0, ix1, iy0, iy1);

  ItemScratch& scratch = thread_scratch();
  const std::size_t floats = static_cast<std::size_t>(spec.width) * spec.height * 3;
  scratch.pixels.resize(floats);
  const double rx0 = x0 - region.x0, ry0 = y0 - region.y0, rx1 = x1 - region.x0, ry1 = y1 - region.y0;
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
    detail::resample_like_pillow(view, bx0, by0, bx1, by1, out_w, out_h, spec.filter, spec.antialias,
                                 scratch.pixels.data());
  } else {
    detail::resample_to_float(region.view, rx0, ry0, rx1, ry1, out_w, out_h, spec.filter, spec.antialias,
                              scratch.pixels.data(), scratch.resample);
  }
  float* pixels = scratch.pixels.data();
  if (spec.filter == Filter::Bicubic && !spec.exact) {  // overshoot: Pillow's output is uint8, clipped to 0..255
    for (std::size_t i = 0; i < floats; ++i) pixels[i] = std::min(255.f, std::max(0.f, pixels[i]));
  }
  if (im.orientation != 1) {
    scratch.turned.resize(floats);
    detail::orient_floats(pixels, out_w, out_h, 3, im.orientation, scratch.turned.data());
    pixels = scratch.turned.data();
  }
  detail::color_jitter(pixels, spec.width, spec.height, plan);
  detail::write_output(pixels, spec, plan.flip, slot);
}

// The warnings recorded per position, in order (positions whose item failed have none).
std::vector<ItemError> collect_warnings(const std::vector<std::string>& per_item) {
  std::vector<ItemError> out;
  for (std::size_t i = 0; i < per_item.size(); ++i) {
    if (!per_item[i].empty()) out.push_back({i, ItemError::Kind::Decode, 0, per_item[i]});
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
