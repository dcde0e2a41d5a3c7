#include <gtest/gtest.h>

#include "fastimg/ops.hpp"
#include "test_images.hpp"

namespace fastimg {
namespace {

using test::Image;
using test::textured;

double reference(const Image& img) {
  std::uint64_t s[4] = {};
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      for (int ch = 0; ch < img.channels; ++ch) s[ch] += const_cast<Image&>(img).at(x, y, ch);
  const double n = static_cast<double>(img.width) * img.height;
  if (img.channels == 1) return static_cast<double>(s[0] * 1000) / (1000.0 * n);
  return static_cast<double>(299 * s[0] + 587 * s[1] + 114 * s[2]) / (1000.0 * n);
}

TEST(Luminance, MatchesExactIntegerReferenceForOddShapesAndStrides) {
  for (int c : {1, 3, 4})
    for (auto [w, h, pad] :
         {std::tuple{1, 1, 0}, std::tuple{17, 3, 5}, std::tuple{333, 129, 1}, std::tuple{64, 64, 0}}) {
      Image img = textured(w, h, c, pad, static_cast<std::uint32_t>(w));
      EXPECT_EQ(luminance_batch({img.cview()}, 1)[0], reference(img)) << c << " " << w << "x" << h;
    }
}

TEST(Luminance, SaturatedLargeImageHasNoDrift) {
  // 2000 x 1500 of 255: every 16-bit accumulator flushes many times; the mean must be exactly 255.
  Image img(2000, 1500, 3);
  std::fill(img.pixels.begin(), img.pixels.end(), std::uint8_t{255});
  EXPECT_EQ(luminance_batch({img.cview()}, 2)[0], 255.0);
}

TEST(Luminance, WeightsFollowRec601) {
  Image img(4, 4, 4);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      img.at(x, y, 0) = 100;
      img.at(x, y, 1) = 0;
      img.at(x, y, 2) = 0;
      img.at(x, y, 3) = 255;  // alpha is ignored
    }
  EXPECT_DOUBLE_EQ(luminance_batch({img.cview()})[0], 29.9);
}

TEST(Luminance, ThreadCountInvariant) {
  Image big = textured(2500, 1700, 3);
  std::vector<ConstImageView> batch = {big.cview(), textured(50, 40, 1).cview()};
  Image small = textured(50, 40, 1);
  batch[1] = small.cview();
  EXPECT_EQ(luminance_batch(batch, 1), luminance_batch(batch, 2));
  EXPECT_EQ(luminance_batch(batch, 1), luminance_batch(batch, 5));
}

}  // namespace
}  // namespace fastimg
