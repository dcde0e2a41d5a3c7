#include <gtest/gtest.h>

#include <cmath>

#include "fastimg/decode.hpp"
#include "fastimg/encode.hpp"
#include "fastimg/errors.hpp"
#include "test_images.hpp"

namespace fastimg {
namespace {

double psnr(const DecodedImage& a, const test::Image& b) {
  const auto packed = b.packed();
  double se = 0;
  for (std::size_t i = 0; i < packed.size(); ++i) {
    const double d = double(a.pixels[i]) - double(packed[i]);
    se += d * d;
  }
  const double mse = se / static_cast<double>(packed.size());
  return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

TEST(JpegWriter, RgbRoundTripKeepsThePicture) {
  const test::Image img = test::smooth(97, 61, 3);
  const auto bytes = encode_jpeg(img.cview(), 95);
  ASSERT_GT(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0xFF);
  EXPECT_EQ(bytes[1], 0xD8);
  const DecodedImage back = decode_image(bytes.data(), bytes.size(), DecodeOptions{});
  ASSERT_EQ(back.width, 97);
  ASSERT_EQ(back.height, 61);
  ASSERT_EQ(back.channels, 3);
  EXPECT_GT(psnr(back, img), 38.0);
}

TEST(JpegWriter, StridedGreyRoundTrip) {
  test::Image img = test::textured(40, 30, 1, /*padding=*/7);
  const auto bytes = encode_jpeg(img.cview(), 100);
  DecodeOptions options;
  options.mode = PixelFormat::L;
  const DecodedImage back = decode_image(bytes.data(), bytes.size(), options);
  ASSERT_EQ(back.channels, 1);
  EXPECT_GT(psnr(back, img), 35.0);
}

TEST(JpegWriter, LowerQualityIsSmaller) {
  const test::Image img = test::textured(128, 128, 3);
  EXPECT_LT(encode_jpeg(img.cview(), 30).size(), encode_jpeg(img.cview(), 95).size());
}

TEST(JpegWriter, RefusesBadArguments) {
  test::Image rgba(8, 8, 4);
  EXPECT_THROW(encode_jpeg(rgba.cview(), 90), InvalidArgument);
  test::Image rgb(8, 8, 3);
  EXPECT_THROW(encode_jpeg(rgb.cview(), 0), InvalidArgument);
  EXPECT_THROW(encode_jpeg(rgb.cview(), 101), InvalidArgument);
}

}  // namespace
}  // namespace fastimg
