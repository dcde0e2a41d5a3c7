#include <gtest/gtest.h>

#include "fastimg/errors.hpp"
#include "fastimg/ops.hpp"
#include "test_images.hpp"

namespace fastimg {
namespace {

using test::Image;
using test::textured;

TEST(Colour, RgbToRgbaAddsOpaqueAlphaAndBack) {
  Image rgb = textured(37, 21, 3, /*padding=*/3);
  Image rgba(37, 21, 4);
  Image back(37, 21, 3, /*padding=*/9);
  rgb_to_rgba_batch({rgb.cview()}, {rgba.view()});
  rgba_to_rgb_batch({rgba.cview()}, {back.view()});
  for (int y = 0; y < 21; ++y)
    for (int x = 0; x < 37; ++x) {
      ASSERT_EQ(rgba.at(x, y, 3), 255);
      for (int ch = 0; ch < 3; ++ch) ASSERT_EQ(rgba.at(x, y, ch), rgb.at(x, y, ch));
    }
  EXPECT_EQ(back.packed(), rgb.packed());
}

TEST(Colour, RejectsWrongChannelCounts) {
  Image rgba = textured(5, 5, 4);
  Image out(5, 5, 4);
  EXPECT_THROW(rgb_to_rgba_batch({rgba.cview()}, {out.view()}), InvalidArgument);
}

}  // namespace
}  // namespace fastimg
