// libFuzzer target over the native decode entry points: arbitrary bytes -> fastimg::decode_image (RGB/L/RGBA,
// min_size, max_side, EXIF) and fastimg::run_pipeline (random resized crop with flip and jitter, center crop
// with a resize, stretch; float32/float16/uint8; NCHW/NHWC; antialias or bilinear).
//
// Input layout: the first kOptionBytes bytes choose the options (a FuzzedDataProvider over them); the rest is
// the encoded image. fuzz/make_corpus.py writes its seeds with such a prefix.
//
// Entry 3 prepares the input (fastimg/prepare.hpp) and checks the two oracles of #24: a prepared file
// decodes to the original's pixels, and a crop of it decoded from spliced restart intervals equals the crop
// decoded from the whole file.
//
// Findings: any sanitizer report, an exception other than fastimg::DecodeError out of decode_image, a
// cv::Exception reaching the pipeline's error list, or a broken postcondition (FUZZ_REQUIRE below).
#include <fuzzer/FuzzedDataProvider.h>
#include <sanitizer/common_interface_defs.h>

#include <opencv2/core/utils/logger.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fastimg/decode.hpp"
#include "fastimg/errors.hpp"
#include "fastimg/pipeline.hpp"
#include "fastimg/prepare.hpp"

namespace {

using fastimg::PixelFormat;

constexpr std::size_t kOptionBytes = 12;

// The library's default pixel limit (2^28) deliberately admits images whose decode needs gigabytes; the
// harness decodes under smaller limits so that -rss_limit_mb=2048 and -timeout=1 flag real problems only.
// 2^16 exercises the refusal path on ordinary seeds.
constexpr std::int64_t kMaxPixels[] = {std::int64_t{1} << 22, std::int64_t{1} << 22, std::int64_t{1} << 20,
                                       std::int64_t{1} << 16};

// Reported through the sanitizer's report channel, which stays open under -close_fd_mask=2 (OpenCV and
// libpng print every rejected input to stderr; `make fuzz` closes it).
[[noreturn]] void fail(const char* condition, int line) {
  char message[512];
  std::snprintf(message, sizeof(message), "decode_fuzzer: postcondition failed at line %d: %s", line, condition);
  __sanitizer_report_error_summary(message);
  std::abort();
}

#define FUZZ_REQUIRE(cond)              \
  do {                                  \
    if (!(cond)) fail(#cond, __LINE__); \
  } while (0)

void fuzz_decode(FuzzedDataProvider& o, const std::uint8_t* data, std::size_t size) {
  fastimg::DecodeOptions options;
  options.mode = o.PickValueInArray({PixelFormat::RGB, PixelFormat::L, PixelFormat::RGBA});
  if (o.ConsumeBool()) {
    options.min_width = o.ConsumeIntegralInRange(1, 256);
    options.min_height = o.ConsumeIntegralInRange(1, 256);
  }
  if (o.ConsumeBool()) options.max_side = o.ConsumeIntegralInRange(1, 256);
  options.apply_exif_orientation = o.ConsumeBool();
  options.limits.max_pixels = o.PickValueInArray(kMaxPixels);
  options.limits.max_scans = o.ConsumeBool() ? 500 : 3;

  fastimg::DecodedImage image;
  try {
    image = fastimg::decode_image(data, size, options);
  } catch (const fastimg::DecodeError&) {
    return;  // the documented failure; anything else escapes and is reported
  }
  FUZZ_REQUIRE(image.width > 0 && image.height > 0);
  FUZZ_REQUIRE(image.channels == fastimg::channels_of(options.mode));
  FUZZ_REQUIRE(image.pixels.size() ==
               static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) * image.channels);
  FUZZ_REQUIRE(static_cast<std::int64_t>(image.width) * image.height <= options.limits.max_pixels);
  if (options.max_side > 0) FUZZ_REQUIRE(std::max(image.width, image.height) <= options.max_side);
  // Read every byte, so ASan checks the whole buffer and nothing is optimised away.
  unsigned sum = 0;
  for (std::uint8_t v : image.pixels) sum += v;
  FUZZ_REQUIRE(sum <= 255u * image.pixels.size());
}

bool half_is_finite(std::uint16_t h) { return (h & 0x7C00u) != 0x7C00u; }

void fuzz_pipeline(FuzzedDataProvider& o, const std::uint8_t* data, std::size_t size) {
  fastimg::TransformSpec s;
  s.height = o.ConsumeIntegralInRange(1, 64);
  s.width = o.ConsumeIntegralInRange(1, 64);
  switch (o.ConsumeIntegralInRange(0, 6)) {
    case 0:  // torchvision's training chain: RandomResizedCrop + flip + ColorJitter
      s.crop = fastimg::CropMode::RandomResized;
      s.scale_min = o.PickValueInArray({0.08, 0.5, 1.0});
      s.ratio_min = o.PickValueInArray({0.75, 0.1, 1.0});
      s.ratio_max = o.PickValueInArray({4.0 / 3.0, 10.0, 1.0});
      s.ratio_max = std::max(s.ratio_min, s.ratio_max);
      s.hflip = 0.5;
      s.brightness = s.contrast = s.saturation = 0.4;
      break;
    case 1:  // Resize(N) + CenterCrop
      s.crop = fastimg::CropMode::Center;
      s.resize = fastimg::ResizeMode::ShorterSide;
      s.resize_short = std::max(s.height, s.width) + o.ConsumeIntegralInRange(0, 64);
      break;
    case 2:  // Resize((h, w)) + CenterCrop
      s.crop = fastimg::CropMode::Center;
      s.resize = fastimg::ResizeMode::Exact;
      s.resize_height = s.height + o.ConsumeIntegralInRange(0, 32);
      s.resize_width = s.width + o.ConsumeIntegralInRange(0, 32);
      break;
    case 3:  // CenterCrop of the original (pads smaller images)
      s.crop = fastimg::CropMode::Center;
      break;
    case 4:  // stretch
      break;
    case 5:  // RandomCrop(size, padding): may show padding only
      s.crop = fastimg::CropMode::Random;
      s.crop_padding = o.ConsumeIntegralInRange(0, 40);
      break;
    default:  // Resize((h, w)) equal to the size, no crop
      s.resize = fastimg::ResizeMode::Exact;
      s.resize_height = s.height;
      s.resize_width = s.width;
      break;
  }
  if (o.ConsumeBool()) s.hflip = 1.0;
  const auto extras = o.ConsumeIntegral<std::uint8_t>();  // vertical flip, grayscale, erasing, max_size
  s.vflip = (extras & 1) ? 0.5 : 0.0;
  s.grayscale = (extras & 2) ? 0.5 : 0.0;
  s.erase = (extras & 4) ? 0.8 : 0.0;
  if ((extras & 8) && s.resize == fastimg::ResizeMode::ShorterSide) s.resize_max = s.resize_short + 1;
  if (extras & 16) {  // an augment table of one op (both signs): any kind, parameters from Pillow's ranges and beyond
    double kind = o.ConsumeIntegralInRange(0, 12);
    if ((kind == 10 || kind == 11) && s.width != s.height)
      kind = 1;  // quarter turns are for square outputs (validate refuses)
    const double p1 = o.PickValueInArray({0.0, 0.5, 1.0, 1.99, 4.0, 8.0, 128.5, -3.5, 40000.0});
    const double p2 = o.PickValueInArray({0.0, -0.25, 0.99, 1e6});
    const double param = kind == 6 ? o.ConsumeIntegralInRange(0, 8) : p1;
    s.augment_bins = 1;
    s.augment_table = {kind, param, p2, 3.5, -0.5, 1.0, -7.0, 0.0, kind, param, -p2, 1.0, 0.0, 0.0, 1.0, 2.0};
  }
  s.dtype =
      o.PickValueInArray({fastimg::OutputType::Float32, fastimg::OutputType::Float16, fastimg::OutputType::UInt8});
  s.layout = o.ConsumeBool() ? fastimg::Layout::NHWC : fastimg::Layout::NCHW;
  s.filter = o.PickValueInArray({fastimg::Filter::Bilinear, fastimg::Filter::Bicubic, fastimg::Filter::Nearest});
  s.antialias = o.ConsumeBool();
  if (s.dtype != fastimg::OutputType::UInt8 && o.ConsumeBool()) {
    s.mean = {0.485f, 0.456f, 0.406f};
    s.std = {0.229f, 0.224f, 0.225f};
  }
  s.apply_exif_orientation = o.ConsumeBool();
  s.fast_dct = o.ConsumeBool();
  const auto flags = o.ConsumeIntegral<std::uint8_t>();
  s.exact = !s.fast_dct && (flags & 1) != 0;
  s.limits.strict = (flags & 2) == 0;
  s.limits.max_pixels = o.PickValueInArray(kMaxPixels);
  s.validate();
  const std::uint64_t seed = o.ConsumeIntegral<std::uint8_t>();
  const std::uint64_t epoch = o.ConsumeIntegralInRange(0, 3);
  const std::int64_t index = o.ConsumeIntegralInRange(0, 1000);
  // Sometimes two items: the second reuses the thread's decoder right after the first, and compaction runs.
  const std::size_t count = o.ConsumeBool() ? 2 : 1;

  fastimg::Source source;
  source.data = data;
  source.size = size;
  const std::vector<fastimg::Source> sources(count, source);
  std::vector<std::int64_t> indices;
  for (std::size_t i = 0; i < count; ++i) indices.push_back(index + static_cast<std::int64_t>(i));
  const std::size_t item_bytes = s.item_bytes();
  std::vector<std::uint8_t> out(item_bytes * count);
  const fastimg::PipelineResult r = fastimg::run_pipeline(sources, indices, s, seed, epoch, out.data(), 1, false, true);

  FUZZ_REQUIRE(r.good.size() + r.errors.size() == count);
  for (const fastimg::ItemError& e : r.errors) {
    FUZZ_REQUIRE(e.kind == fastimg::ItemError::Kind::Decode || e.kind == fastimg::ItemError::Kind::Invalid);
    // run_items turns a cv::Exception into this message: OpenCV refused what we handed it.
    FUZZ_REQUIRE(e.message.rfind("image processing failed", 0) != 0);
    FUZZ_REQUIRE(e.message.rfind("out of memory", 0) != 0);
  }
  const std::size_t values = item_bytes / (s.dtype == fastimg::OutputType::Float32   ? 4
                                           : s.dtype == fastimg::OutputType::Float16 ? 2
                                                                                     : 1);
  for (std::size_t k = 0; k < r.good.size(); ++k) {
    const std::uint8_t* slot = out.data() + k * item_bytes;
    for (std::size_t i = 0; i < values; ++i) {
      if (s.dtype == fastimg::OutputType::Float32) {
        float v;
        std::memcpy(&v, slot + 4 * i, 4);
        FUZZ_REQUIRE(std::isfinite(v) && v >= -3.f && v <= 3.f);
      } else if (s.dtype == fastimg::OutputType::Float16) {
        std::uint16_t v;
        std::memcpy(&v, slot + 2 * i, 2);
        FUZZ_REQUIRE(half_is_finite(v));
      }
    }
  }
  // Two items of the same bytes are the same image: the second decode must not depend on the first.
  if (count == 2 && r.good.size() == 2 && s.crop != fastimg::CropMode::RandomResized && s.hflip == 0.0) {
    FUZZ_REQUIRE(std::memcmp(out.data(), out.data() + item_bytes, item_bytes) == 0);
  }
}

// The crop of `data` under a small RandomResizedCrop, or empty when it fails.
std::vector<std::uint8_t> crop(const std::uint8_t* data, std::size_t size, const fastimg::TransformSpec& s,
                               std::uint64_t epoch) {
  fastimg::Source source;
  source.data = data;
  source.size = size;
  std::vector<std::uint8_t> out(s.item_bytes());
  const fastimg::PipelineResult r = fastimg::run_pipeline({source}, {0}, s, 3, epoch, out.data(), 1, false, true);
  if (r.good.size() != 1) out.clear();
  return out;
}

void fuzz_prepare(FuzzedDataProvider& o, const std::uint8_t* data, std::size_t size) {
  fastimg::DecodeLimits limits;
  limits.max_pixels = o.PickValueInArray(kMaxPixels);
  const int interval = o.ConsumeIntegralInRange(0, 5);
  fastimg::PreparedJpeg p;
  try {
    p = fastimg::prepare_jpeg(data, size, interval, limits);
  } catch (const fastimg::DecodeError&) {
    return;
  }
  const std::vector<std::uint8_t> bytes =
      p.outcome == fastimg::PreparedJpeg::Outcome::Prepared ? p.bytes : std::vector<std::uint8_t>(data, data + size);
  if (p.outcome == fastimg::PreparedJpeg::Outcome::Prepared) {
    fastimg::DecodeOptions options;
    options.limits = limits;
    try {
      const fastimg::DecodedImage a = fastimg::decode_image(data, size, options);
      const fastimg::DecodedImage b = fastimg::decode_image(bytes.data(), bytes.size(), options);
      FUZZ_REQUIRE(a.width == b.width && a.height == b.height && a.pixels == b.pixels);
    } catch (const fastimg::DecodeError&) {
      // The original may fail where libjpeg reads its coefficients (a limit, a 2nd-scan fault ignored there).
    }
  }
  fastimg::TransformSpec s;
  s.height = s.width = o.ConsumeIntegralInRange(1, 32);
  s.crop = fastimg::CropMode::RandomResized;
  s.scale_min = o.PickValueInArray({0.01, 0.08, 0.5});
  s.scale_max = o.PickValueInArray({0.05, 0.3, 1.0});
  s.scale_max = std::max(s.scale_min, s.scale_max);
  s.dtype = fastimg::OutputType::UInt8;
  s.exact = o.ConsumeBool();
  s.filter = o.PickValueInArray({fastimg::Filter::Bilinear, fastimg::Filter::Nearest});
  s.apply_exif_orientation = o.ConsumeBool();
  s.limits = limits;
  s.validate();
  const std::uint64_t epoch = o.ConsumeIntegralInRange(0, 3);
  const std::vector<std::uint8_t> spliced = crop(bytes.data(), bytes.size(), s, epoch);
  fastimg::set_restart_splicing(false);
  const std::vector<std::uint8_t> whole = crop(bytes.data(), bytes.size(), s, epoch);
  fastimg::set_restart_splicing(true);
  // Damage inside an interval the crop skips fails only the whole-file decode (documented): compare when both
  // decoded.
  if (!spliced.empty() && !whole.empty()) FUZZ_REQUIRE(spliced == whole);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::vector<std::uint8_t> option_bytes = input.ConsumeBytes<std::uint8_t>(kOptionBytes);
  const std::vector<std::uint8_t> image = input.ConsumeRemainingBytes<std::uint8_t>();  // exact-size heap copy
  FuzzedDataProvider options(option_bytes.data(), option_bytes.size());
  const int entry = options.ConsumeIntegralInRange(0, 3);  // 0 decode, 1 pipeline, 2 both, 3 prepare
  if (entry == 3) {
    fuzz_prepare(options, image.data(), image.size());
    return 0;
  }
  if (entry != 1) fuzz_decode(options, image.data(), image.size());
  if (entry != 0) fuzz_pipeline(options, image.data(), image.size());
  return 0;
}
