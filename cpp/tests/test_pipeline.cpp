#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../src/pipeline/finish.hpp"
#include "../src/pipeline/resample.hpp"
#include "fastimg/errors.hpp"
#include "fastimg/pipeline.hpp"
#include "test_codec_helpers.hpp"

namespace fastimg {
namespace {

using test::Image;

TEST(Plan, RandomResizedCropStaysInsideAndRespectsScaleAndRatio) {
  TransformSpec s;
  s.crop = CropMode::RandomResized;
  int fallbacks = 0;
  for (std::int64_t i = 0; i < 2000; ++i) {
    const ItemPlan p = plan_item(500, 375, s, 1, 0, i);
    ASSERT_GE(p.x0, 0);
    ASSERT_GE(p.y0, 0);
    ASSERT_LE(p.x1, 500);
    ASSERT_LE(p.y1, 375);
    const double w = p.x1 - p.x0, h = p.y1 - p.y0;
    ASSERT_EQ(w, std::floor(w));  // torchvision's boxes are whole pixels
    const double area = w * h / (500.0 * 375.0);
    if (area > 1.0 - 1e-9) ++fallbacks;
    ASSERT_GE(area, 0.08 - 0.01);
    ASSERT_GE(w / h, 0.75 - 0.02);
    ASSERT_LE(w / h, 4.0 / 3.0 + 0.02);
  }
  EXPECT_LT(fallbacks, 100);
}

TEST(Plan, FallbackIsACentralCropClampedToTheRatio) {
  TransformSpec s;
  s.crop = CropMode::RandomResized;
  s.scale_min = s.scale_max = 1.0;  // the whole 1000 x 100 image has ratio 10 > 4/3: never accepted
  const ItemPlan p = plan_item(1000, 100, s, 3, 0, 0);
  EXPECT_EQ(p.y0, 0);
  EXPECT_EQ(p.y1, 100);
  EXPECT_EQ(p.x1 - p.x0, 133);  // round(100 * 4/3)
  EXPECT_EQ(p.x0, (1000 - 133) / 2);
}

TEST(Plan, ResizeThenCenterCropInSourceCoordinates) {
  TransformSpec s;
  s.resize = ResizeMode::ShorterSide;
  s.resize_short = 256;
  s.crop = CropMode::Center;
  const ItemPlan p = plan_item(500, 375, s, 0, 0, 0);
  // Resize to 341 x 256 (int(256 * 500 / 375) = 341), crop offsets (round(58.5) = 58, 16).
  const double fx = 500.0 / 341, fy = 375.0 / 256;
  EXPECT_DOUBLE_EQ(p.x0, 58 * fx);
  EXPECT_DOUBLE_EQ(p.x1, (58 + 224) * fx);
  EXPECT_DOUBLE_EQ(p.y0, 16 * fy);
  EXPECT_DOUBLE_EQ(p.y1, 240 * fy);
  // A crop larger than the image pads, as torchvision's CenterCrop: 300x300 from 100x120 shows the whole image
  // at ((300 - 100) // 2, (300 - 120) // 2); 300 wide from 100x400 crops the height (round(50) = 50).
  TransformSpec big;
  big.height = big.width = 300;
  big.crop = CropMode::Center;
  const ItemPlan padded = plan_item(100, 120, big, 0, 0, 0);
  EXPECT_EQ(padded.pad_x, 100);
  EXPECT_EQ(padded.pad_y, 90);
  EXPECT_EQ(padded.inner_w, 100);
  EXPECT_EQ(padded.inner_h, 120);
  EXPECT_DOUBLE_EQ(padded.x1, 100);
  const ItemPlan tall = plan_item(100, 400, big, 0, 0, 0);
  EXPECT_EQ(tall.pad_y, 0);
  EXPECT_EQ(tall.inner_h, 300);
  EXPECT_DOUBLE_EQ(tall.y0, 50);
  // Resize(256, max_size=300) of 1000x250: the longer side would be 1024, so 300 x int(300 * 256 / 1024) = 75.
  TransformSpec capped = s;
  capped.resize_max = 300;
  capped.width = capped.height = 64;
  const ItemPlan c = plan_item(1000, 250, capped, 0, 0, 0);
  EXPECT_DOUBLE_EQ(c.x1 - c.x0, 64 * (1000.0 / 300));
  EXPECT_DOUBLE_EQ(c.y1 - c.y0, 64 * (250.0 / 75));
}

TEST(Resample, IdentityAndConstantImages) {
  Image img = test::textured(37, 23, 3);
  std::vector<float> out(37 * 23 * 3);
  detail::ResampleScratch scratch;
  for (Filter filter : {Filter::Bilinear, Filter::Bicubic, Filter::Nearest}) {
    for (bool antialias : {false, true}) {
      detail::resample_to_float(img.cview(), 0, 0, 37, 23, 37, 23, filter, antialias, out.data(), scratch);
      const auto packed = img.packed();
      for (std::size_t i = 0; i < packed.size(); ++i) ASSERT_FLOAT_EQ(out[i], packed[i]);
    }
    Image flat(64, 48, 3);
    std::fill(flat.pixels.begin(), flat.pixels.end(), std::uint8_t{200});
    std::vector<float> small(10 * 7 * 3);
    detail::resample_to_float(flat.cview(), 3.3, 1.7, 60.1, 40.2, 10, 7, filter, true, small.data(), scratch);
    for (float v : small) ASSERT_NEAR(v, 200.f, 1e-3);
  }
}

TEST(Resample, BicubicAndNearestFollowPillow) {
  Image img(4, 1, 1);
  const int values[] = {0, 100, 200, 40};
  for (int x = 0; x < 4; ++x) img.at(x, 0, 0) = static_cast<std::uint8_t>(values[x]);
  float out[2];
  detail::ResampleScratch scratch;
  detail::resample_to_float(img.cview(), 0, 0, 4, 1, 2, 1, Filter::Nearest, true, out, scratch);
  EXPECT_EQ(out[0], 100.f);  // centres 1.0 and 3.0 fall in pixels 1 and 3
  EXPECT_EQ(out[1], 40.f);
  // Bicubic (a = -0.5) widened 2x: taps at distances 0.25, 0.75, 1.25 (halved: 0.125, 0.375, 0.625) ...
  detail::resample_to_float(img.cview(), 0, 0, 4, 1, 2, 1, Filter::Bicubic, true, out, scratch);
  auto k = [](double x) {
    x = std::abs(x);
    return x < 1 ? (1.5 * x - 2.5) * x * x + 1 : x < 2 ? (((x - 5) * x + 8) * x - 4) * -0.5 : 0.0;
  };
  double num = 0, den = 0;
  for (int x = 0; x < 4; ++x) {
    const double w = k((x + 0.5 - 1.0) / 2.0);
    num += w * values[x];
    den += w;
  }
  EXPECT_NEAR(out[0], num / den, 1e-3);
}

TEST(Resample, HalvingWithAntialiasAveragesNeighbours) {
  Image img(4, 1, 1);
  img.at(0, 0, 0) = 0;
  img.at(1, 0, 0) = 100;
  img.at(2, 0, 0) = 200;
  img.at(3, 0, 0) = 40;
  float out[2];
  detail::ResampleScratch scratch;
  detail::resample_to_float(img.cview(), 0, 0, 4, 1, 2, 1, Filter::Bilinear, true, out, scratch);
  // Triangle of support 2 centred at 1.0 and 3.0: weights (1/4, 3/4... normalised) as Pillow.
  EXPECT_NEAR(out[0], (0.75 * 0 + 0.75 * 100 + 0.25 * 200) / 1.75, 1e-3);
  EXPECT_NEAR(out[1], (0.25 * 100 + 0.75 * 200 + 0.75 * 40) / 1.75, 1e-3);
}

// libjpeg's "fancy" 2x upsampling of a plane (triangle: 3/4 of the nearer sample, 1/4 of the next,
// edges replicated), in both directions: the reference the planar path folds into its weights.
Image fancy_upsample(const Image& plane, int width, int height) {
  Image out(width, height, 1);
  auto at = [&](int x, int y) {
    return static_cast<double>(plane.at(std::clamp(x, 0, plane.width - 1), std::clamp(y, 0, plane.height - 1), 0));
  };
  for (int y = 0; y < height; ++y) {
    const int m = y / 2, n = y % 2 == 0 ? m - 1 : m + 1;
    for (int x = 0; x < width; ++x) {
      const int i = x / 2, j = x % 2 == 0 ? i - 1 : i + 1;
      const double v = 0.75 * (0.75 * at(i, m) + 0.25 * at(j, m)) + 0.25 * (0.75 * at(i, n) + 0.25 * at(j, n));
      out.at(x, y, 0) = static_cast<std::uint8_t>(std::lround(v));
    }
  }
  return out;
}

TEST(ResamplePlane, MatchesThePackedResamplerOnOneChannel) {
  const Image img = test::textured(203, 157, 1);
  detail::ResampleScratch scratch;
  const detail::PlaneGrid grid{203, 157, 1.0, 1.0};
  struct Case {
    double x0, y0, x1, y1;
    int w, h;
  };
  // Shrinks, stretches, a band that does not fill the last group of rows, widths off the SIMD width.
  for (const Case c : {Case{0, 0, 203, 157, 64, 48}, Case{10.5, 3.25, 190.75, 150.5, 37, 29},
                       Case{50, 40, 70, 55, 61, 43}, Case{0, 0, 203, 157, 203, 157}, Case{1, 2, 200, 9, 13, 1}}) {
    for (Filter filter : {Filter::Bilinear, Filter::Bicubic}) {
      for (bool antialias : {false, true}) {
        std::vector<float> want(static_cast<std::size_t>(c.w) * c.h), got(want.size());
        detail::resample_to_float(img.cview(), c.x0, c.y0, c.x1, c.y1, c.w, c.h, filter, antialias, want.data(),
                                  scratch);
        for (int lanes : {4, 8}) {
          if (lanes == 8 && !__builtin_cpu_supports("avx2")) continue;
          std::fill(got.begin(), got.end(), -1.f);
          detail::resample_plane(img.cview(), grid, c.x0, c.y0, c.x1, c.y1, c.w, c.h, filter, antialias, got.data(),
                                 scratch, lanes);
          for (std::size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-3) << i << " lanes " << lanes;
        }
      }
    }
  }
}

TEST(ResamplePlane, HalfResolutionPlaneResamplesAsLibjpegsUpsamplingThenTheFilter) {
  const Image plane = test::textured(51, 40, 1);  // chroma of a 101 x 80 image (odd width: last sample half used)
  const Image up = fancy_upsample(plane, 101, 80);
  detail::ResampleScratch scratch;
  const detail::PlaneGrid grid{101, 80, 2.0, 2.0};
  for (bool antialias : {false, true}) {
    for (const int w : {40, 101, 150}) {
      const int h = w * 80 / 101;
      std::vector<float> want(static_cast<std::size_t>(w) * h), got(want.size());
      detail::resample_to_float(up.cview(), 3, 1, 98, 79, w, h, Filter::Bilinear, antialias, want.data(), scratch);
      detail::resample_plane(plane.cview(), grid, 3, 1, 98, 79, w, h, Filter::Bilinear, antialias, got.data(), scratch);
      double total = 0;
      for (std::size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 1.0) << i;  // the reference rounds its upsampled pixels to whole levels
        total += std::abs(got[i] - want[i]);
      }
      EXPECT_LT(total / static_cast<double>(want.size()), 0.3);
    }
  }
}

TEST(Finish, YcbcrToRgbUsesJfifConstantsAndClamps) {
  // Three pixels as planes (Y, then Cb, then Cr): grey, black with full red chroma, white with it.
  std::vector<float> px = {128, 0, 255, 128, 128, 128, 128, 255, 255};
  detail::ycbcr_to_rgb(px.data(), 3);
  EXPECT_FLOAT_EQ(px[0], 128);  // grey stays grey
  EXPECT_FLOAT_EQ(px[3], 128);
  EXPECT_FLOAT_EQ(px[6], 128);
  EXPECT_NEAR(px[1], 1.402f * 127, 1e-3);  // R = Y + 1.402 (Cr - 128)
  EXPECT_EQ(px[4], 0.f);                   // G below 0: clamped
  EXPECT_EQ(px[7], 0.f);
  EXPECT_EQ(px[2], 255.f);  // R above 255: clamped
  EXPECT_NEAR(px[5], 255 - 0.71414f * 127, 1e-3);
  EXPECT_EQ(px[8], 255.f);
}

TEST(Finish, HalfConversionRoundsToNearestEven) {
  EXPECT_EQ(detail::float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(detail::float_to_half(-2.0f), 0xC000);
  EXPECT_EQ(detail::float_to_half(65504.f), 0x7BFF);
  EXPECT_EQ(detail::float_to_half(65520.f), 0x7C00);  // halfway to the next: rounds to infinity
  EXPECT_EQ(detail::float_to_half(1e-9f), 0x0000);
  EXPECT_EQ(detail::float_to_half(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(detail::float_to_half(1.0f + 1.0f / 2048), 0x3C00);      // tie: to even
  EXPECT_EQ(detail::float_to_half(1.0f + 3.0f / 2048), 0x3C02);      // tie: to even (up)
  EXPECT_EQ(detail::float_to_half(std::nanf("")) & 0x7C00, 0x7C00);
}

class Batch : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 6; ++i) jpegs.push_back(test::encode_jpeg(test::textured(120 + 17 * i, 90 + 5 * i, 3), 90));
    for (auto& j : jpegs) sources.push_back({j.data(), j.size(), {}});
    for (std::int64_t i = 0; i < 6; ++i) indices.push_back(100 + i);
    spec.height = 32;
    spec.width = 40;
    spec.crop = CropMode::RandomResized;
    spec.hflip = 0.5;
    spec.brightness = 0.3;
  }
  std::vector<std::uint8_t> run(int threads, bool compact = true) {
    std::vector<std::uint8_t> out(spec.item_bytes() * sources.size());
    last = run_pipeline(sources, indices, spec, 5, 1, out.data(), threads, false, compact);
    return out;
  }
  std::vector<std::vector<std::uint8_t>> jpegs;
  std::vector<Source> sources;
  std::vector<std::int64_t> indices;
  TransformSpec spec;
  PipelineResult last;
};

TEST_F(Batch, ThreadCountDoesNotChangeBytes) {
  const auto one = run(1);
  EXPECT_EQ(one, run(2));
  EXPECT_EQ(one, run(3));
  EXPECT_EQ(last.good.size(), 6u);
}

TEST_F(Batch, FailuresAreRecordedAndGoodItemsCompacted) {
  const auto clean = run(2);
  std::vector<std::uint8_t> truncated(jpegs[1].begin(), jpegs[1].begin() + static_cast<long>(jpegs[1].size() / 2));
  sources[1] = {truncated.data(), truncated.size(), {}};
  sources[4] = {nullptr, 0, "/nonexistent/x.jpg"};
  const auto out = run(2);
  ASSERT_EQ(last.errors.size(), 2u);
  EXPECT_EQ(last.errors[0].position, 1u);
  EXPECT_EQ(last.errors[0].kind, ItemError::Kind::Decode);
  EXPECT_EQ(last.errors[1].position, 4u);
  EXPECT_EQ(last.errors[1].kind, ItemError::Kind::Io);
  EXPECT_EQ(last.good, (std::vector<std::size_t>{0, 2, 3, 5}));
  const std::size_t b = spec.item_bytes();
  for (std::size_t k = 0; k < last.good.size(); ++k) {
    EXPECT_EQ(0, std::memcmp(out.data() + k * b, clean.data() + last.good[k] * b, b)) << k;
  }
}

}  // namespace
}  // namespace fastimg
