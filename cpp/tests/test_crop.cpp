#include <gtest/gtest.h>

#include <set>

#include "fastimg/errors.hpp"
#include "fastimg/ops.hpp"
#include "test_images.hpp"

namespace fastimg {
namespace {

using test::Image;
using test::textured;

TEST(Crop, CopiesTheRegionFromStridedInput) {
  for (int c : {1, 3, 4}) {
    Image src = textured(31, 23, c, /*padding=*/5);
    Image out(9, 7, c, /*padding=*/3);
    crop_batch({src.cview()}, {out.view()}, {{4, 11, 9, 7}});
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 9; ++x)
        for (int ch = 0; ch < c; ++ch) ASSERT_EQ(out.at(x, y, ch), src.at(x + 4, y + 11, ch));
  }
}

TEST(Crop, LargeImageSplitAcrossThreadsIsIdentical) {
  Image src = textured(2000, 1500, 3);
  Image a(1200, 1400, 3), b(1200, 1400, 3);
  crop_batch({src.cview()}, {a.view()}, {{700, 50, 1200, 1400}}, 1);
  crop_batch({src.cview()}, {b.view()}, {{700, 50, 1200, 1400}}, 2);
  EXPECT_EQ(a.packed(), b.packed());
  EXPECT_EQ(a.at(0, 0, 0), src.at(700, 50, 0));
  EXPECT_EQ(a.at(1199, 1399, 2), src.at(1899, 1449, 2));
}

TEST(Crop, RejectsBoxesOutsideTheImage) {
  Image src = textured(10, 10, 3);
  Image out(5, 5, 3);
  EXPECT_THROW(crop_batch({src.cview()}, {out.view()}, {{6, 0, 5, 5}}), InvalidArgument);
  EXPECT_THROW(crop_batch({src.cview()}, {out.view()}, {{-1, 0, 5, 5}}), InvalidArgument);
  EXPECT_THROW(crop_batch({src.cview()}, {out.view()}, {{0, 0, 4, 5}}), InvalidArgument);
  try {
    crop_batch({src.cview()}, {out.view()}, {{0, 6, 5, 5}});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("image 0"), std::string::npos) << e.what();
  }
}

TEST(RandomCrop, DeterministicInBoundsAndCoversPositions) {
  Image src = textured(12, 9, 3);
  std::vector<ConstImageView> srcs(200, src.cview());
  std::vector<Box> sizes(200, Box{0, 0, 10, 8});
  const auto a = random_crop_boxes(srcs, sizes, 42);
  const auto b = random_crop_boxes(srcs, sizes, 42);
  const auto c = random_crop_boxes(srcs, sizes, 43);
  std::set<std::pair<int, int>> seen;
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].x, b[i].x);
    EXPECT_EQ(a[i].y, b[i].y);
    differs |= a[i].x != c[i].x || a[i].y != c[i].y;
    ASSERT_GE(a[i].x, 0);
    ASSERT_LE(a[i].x, 2);
    ASSERT_GE(a[i].y, 0);
    ASSERT_LE(a[i].y, 1);
    seen.insert({a[i].x, a[i].y});
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(seen.size(), 6u);  // all 3 x 2 positions are reachable
  EXPECT_THROW(random_crop_boxes({src.cview()}, {Box{0, 0, 13, 2}}, 1), InvalidArgument);
}

}  // namespace
}  // namespace fastimg
