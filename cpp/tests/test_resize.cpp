#include <gtest/gtest.h>

#include "fastimg/errors.hpp"
#include "fastimg/ops.hpp"
#include "test_images.hpp"

namespace fastimg {
namespace {

using test::Image;
using test::textured;

std::vector<std::uint8_t> resize_one(const Image& src, int w, int h, Interpolation mode, int threads, int padding = 0) {
  Image out(w, h, src.channels, padding);
  resize_batch({src.cview()}, {out.view()}, mode, threads);
  return out.packed();
}

TEST(Resize, AreaHalvingIsTheRoundedBlockMean) {
  for (int c : {1, 3, 4}) {
    Image src = textured(10, 6, c);
    Image out(5, 3, c);
    resize_batch({src.cview()}, {out.view()}, Interpolation::Area);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 5; ++x)
        for (int ch = 0; ch < c; ++ch) {
          const int sum = src.at(2 * x, 2 * y, ch) + src.at(2 * x + 1, 2 * y, ch) + src.at(2 * x, 2 * y + 1, ch) +
                          src.at(2 * x + 1, 2 * y + 1, ch);
          EXPECT_NEAR(out.at(x, y, ch), sum / 4.0, 0.5 + 1e-9) << "c=" << c << " x=" << x << " y=" << y;
        }
  }
}

TEST(Resize, AreaAtUnequalWholeFactorsIsTheBlockMeanOnStridedViews) {
  for (int c : {1, 3, 4}) {
    Image src = textured(36, 27, c, /*padding=*/5);
    Image out(9, 9, c, /*padding=*/3);
    resize_batch({src.cview()}, {out.view()}, Interpolation::Auto, 2);
    for (int y = 0; y < 9; ++y)
      for (int x = 0; x < 9; ++x)
        for (int ch = 0; ch < c; ++ch) {
          int sum = 0;
          for (int dy = 0; dy < 3; ++dy)
            for (int dx = 0; dx < 4; ++dx) sum += src.at(4 * x + dx, 3 * y + dy, ch);
          EXPECT_NEAR(out.at(x, y, ch), sum / 12.0, 0.5 + 1e-9) << "c=" << c << " x=" << x << " y=" << y;
        }
  }
}

TEST(Resize, AreaOverBlocksOfThousandsOfPixelsKeepsExactSums) {
  Image src(600, 40, 3);
  std::fill(src.pixels.begin(), src.pixels.end(), std::uint8_t{255});
  src.pixels[7] = 0;  // one dark sample in the first block: its mean is 255 - 255 / 6000, still 255
  Image out(2, 2, 3);
  resize_batch({src.cview()}, {out.view()}, Interpolation::Area);
  for (std::uint8_t v : out.packed()) EXPECT_EQ(v, 255);
  Image dark = textured(600, 40, 1);
  Image dark_out(2, 1, 1);
  resize_batch({dark.cview()}, {dark_out.view()}, Interpolation::Area);
  for (int x = 0; x < 2; ++x) {
    int sum = 0;
    for (int y = 0; y < 40; ++y)
      for (int t = 0; t < 300; ++t) sum += dark.at(300 * x + t, y, 0);
    EXPECT_NEAR(dark_out.at(x, 0, 0), sum / 12000.0, 0.5 + 1e-9);
  }
}

TEST(Resize, NearestDoublingRepeatsPixels) {
  Image src = textured(7, 5, 3);
  Image out(14, 10, 3);
  resize_batch({src.cview()}, {out.view()}, Interpolation::Nearest);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 14; ++x)
      for (int ch = 0; ch < 3; ++ch) ASSERT_EQ(out.at(x, y, ch), src.at(x / 2, y / 2, ch));
}

TEST(Resize, ConstantImageStaysConstantForEveryFilter) {
  for (auto mode : {Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic, Interpolation::Area,
                    Interpolation::Lanczos4, Interpolation::Auto}) {
    Image src(33, 17, 3);
    std::fill(src.pixels.begin(), src.pixels.end(), std::uint8_t{77});
    for (auto [w, h] : {std::pair{13, 9}, std::pair{50, 41}}) {
      for (std::uint8_t v : resize_one(src, w, h, mode, 1)) ASSERT_EQ(v, 77);
    }
  }
}

TEST(Resize, StridedInputAndOutputGiveTheSameBytes) {
  Image packed = textured(123, 77, 3);
  Image strided = textured(123, 77, 3, /*padding=*/29);
  EXPECT_EQ(resize_one(packed, 41, 60, Interpolation::Bilinear, 1),
            resize_one(strided, 41, 60, Interpolation::Bilinear, 1, /*padding=*/7));
}

TEST(Resize, BytesDoNotDependOnThreadCount) {
  // One large image exercises the split across rows; a batch exercises the split across items.
  Image big = textured(1500, 1100, 3);
  for (auto mode : {Interpolation::Bilinear, Interpolation::Area, Interpolation::Bicubic, Interpolation::Lanczos4}) {
    const auto one = resize_one(big, 513, 387, mode, 1);
    EXPECT_EQ(one, resize_one(big, 513, 387, mode, 2));
    EXPECT_EQ(one, resize_one(big, 513, 387, mode, 3));
  }
  std::vector<Image> srcs;
  for (int i = 0; i < 5; ++i) srcs.push_back(textured(200 + 13 * i, 150 + 7 * i, i % 2 ? 4 : 3));
  auto run = [&](int threads) {
    std::vector<Image> outs;
    std::vector<ConstImageView> in;
    std::vector<ImageView> out;
    for (auto& s : srcs) outs.emplace_back(97, 61, s.channels);
    for (std::size_t i = 0; i < srcs.size(); ++i) {
      in.push_back(srcs[i].cview());
      out.push_back(outs[i].view());
    }
    resize_batch(in, out, Interpolation::Auto, threads);
    std::vector<std::uint8_t> all;
    for (auto& o : outs) {
      auto p = o.packed();
      all.insert(all.end(), p.begin(), p.end());
    }
    return all;
  };
  EXPECT_EQ(run(1), run(2));
  EXPECT_EQ(run(1), run(4));
}

TEST(Resize, RejectsMismatchedChannelsAndCounts) {
  Image src = textured(8, 8, 3);
  Image out(4, 4, 4);
  EXPECT_THROW(resize_batch({src.cview()}, {out.view()}, Interpolation::Bilinear), InvalidArgument);
  EXPECT_THROW(resize_batch({src.cview()}, {}, Interpolation::Bilinear), InvalidArgument);
  ImageView empty = out.view();
  empty.width = 0;
  EXPECT_THROW(resize_batch({src.cview()}, {empty}, Interpolation::Bilinear), InvalidArgument);
}

}  // namespace
}  // namespace fastimg
