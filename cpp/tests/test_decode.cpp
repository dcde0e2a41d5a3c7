#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../src/codecs/exif.hpp"
#include "../src/codecs/jpeg_markers.hpp"
#include "../src/codecs/jpeg_reader.hpp"
#include "../src/pipeline/finish.hpp"
#include "fastimg/decode.hpp"
#include "fastimg/errors.hpp"
#include "test_codec_helpers.hpp"

namespace fastimg {
namespace {

using test::Image;

double mean_abs_diff(const DecodedImage& a, const Image& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  const auto packed = b.packed();
  double total = 0;
  for (std::size_t i = 0; i < packed.size(); ++i) total += std::abs(int(a.pixels[i]) - int(packed[i]));
  return total / static_cast<double>(packed.size());
}

// Every decode is checked from memory and from a file: the two entry points must agree.
DecodedImage decode_both_ways(const std::vector<std::uint8_t>& bytes, const DecodeOptions& options = {}) {
  DecodedImage from_memory = decode_image(bytes.data(), bytes.size(), options);
  char path[] = "/tmp/fastimg_test_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(fd);
  std::vector<std::uint8_t> read_back;
  read_file(path, read_back);
  std::remove(path);
  DecodedImage from_file = decode_image(read_back.data(), read_back.size(), options);
  EXPECT_EQ(from_memory.pixels, from_file.pixels);
  return from_memory;
}

TEST(Decode, JpegRoundTripIsClose) {
  Image img = test::smooth(97, 61, 3);
  const auto bytes = test::encode_jpeg(img, 95);
  EXPECT_EQ(detect_format(bytes.data(), bytes.size()), ImageFormat::Jpeg);
  DecodedImage out = decode_both_ways(bytes);
  EXPECT_EQ(out.channels, 3);
  EXPECT_LT(mean_abs_diff(out, img), 1.5);
}

TEST(Decode, PngIsExact) {
  Image img = test::textured(33, 20, 3);
  const auto bytes = test::encode_png(img);
  DecodedImage out = decode_both_ways(bytes);
  EXPECT_EQ(out.pixels, img.packed());
}

TEST(Decode, GrayscaleModesAndProgressive) {
  Image gray = test::textured(40, 30, 1);
  const auto bytes = test::encode_jpeg(gray, 95, /*progressive=*/true);
  DecodeOptions rgb, luma;
  luma.mode = PixelFormat::L;
  DecodedImage a = decode_both_ways(bytes, rgb), b = decode_both_ways(bytes, luma);
  ASSERT_EQ(b.channels, 1);
  for (std::size_t i = 0; i < b.pixels.size(); ++i) {
    ASSERT_EQ(a.pixels[3 * i], b.pixels[i]);
    ASSERT_EQ(a.pixels[3 * i + 2], b.pixels[i]);
  }
}

TEST(Decode, ReusedDecoderGivesTheSamePixelsAsAFreshOne) {
  // The thread's decompressor is reused, its per-image memory kept in one arena (jpeg_arena.cpp) that
  // grows with the largest image and is reset after each, errors included.
  std::vector<std::vector<std::uint8_t>> files;
  files.push_back(test::encode_jpeg(test::textured(40, 24, 3), 90));
  files.push_back(test::encode_jpeg(test::textured(1500, 900, 3), 85));
  files.push_back(test::encode_jpeg(test::textured(333, 500, 3), 90, /*progressive=*/true));
  files.push_back(test::encode_jpeg(test::textured(33, 17, 1), 95));
  std::vector<std::uint8_t> truncated = files[1];
  truncated.resize(truncated.size() / 2);
  const DecodeOptions options;
  std::vector<DecodedImage> reused;
  for (int round = 0; round < 2; ++round) {
    for (const auto& f : files) reused.push_back(decode_image(f.data(), f.size(), options));
    EXPECT_THROW(decode_image(truncated.data(), truncated.size(), options), DecodeError);
  }
  for (std::size_t i = 0; i < reused.size(); ++i) {
    const auto& f = files[i % files.size()];
    DecodedImage fresh;
    std::thread([&] { fresh = decode_image(f.data(), f.size(), options); }).join();  // a new thread's decoder
    EXPECT_EQ(reused[i].pixels, fresh.pixels) << "file " << i % files.size();
  }
}

TEST(Decode, DctScalingKeepsTheMinimumSize) {
  Image img = test::textured(400, 300, 3);
  const auto bytes = test::encode_jpeg(img, 90);
  DecodeOptions o;
  o.min_width = 90;
  o.min_height = 70;
  DecodedImage out = decode_both_ways(bytes, o);
  EXPECT_EQ(out.width, 100);  // 1/4; 1/8 would give 50 x 38
  EXPECT_EQ(out.height, 75);
  o.max_side = 64;
  o.min_width = o.min_height = 0;
  out = decode_both_ways(bytes, o);
  EXPECT_EQ(std::max(out.width, out.height), 64);
}

TEST(Decode, RegionDecodeEqualsTheSameRegionOfAFullDecode) {
  Image img = test::textured(333, 250, 3);
  const auto bytes = test::encode_jpeg(img, 90);
  detail::JpegReader reader;
  for (int denom : {1, 2, 4}) {
    std::vector<std::uint8_t> full_buf, part_buf;
    reader.read_header(bytes.data(), bytes.size(), {});
    int w = 0, h = 0;
    reader.scaled_size(denom, w, h);
    const auto full = reader.decode(denom, PixelFormat::RGB, 0, w, 0, h, full_buf);
    reader.read_header(bytes.data(), bytes.size(), {});
    const int x0 = w / 3, x1 = w / 3 + w / 4, y0 = h / 5, y1 = h / 2;
    const auto part = reader.decode(denom, PixelFormat::RGB, x0, x1, y0, y1, part_buf);
    ASSERT_LE(part.x0, x0);
    ASSERT_GE(part.x0 + part.view.width, x1);
    ASSERT_EQ(part.view.height, y1 - y0);
    int worst = 0;
    for (int y = 0; y < part.view.height; ++y)
      for (int x = x0 - part.x0; x < x1 - part.x0; ++x)
        for (int c = 0; c < 3; ++c) {
          const int a = part.view.row(y)[x * 3 + c];
          const int b = full.view.row(y + y0)[(x + part.x0) * 3 + c];
          worst = std::max(worst, std::abs(a - b));
        }
    EXPECT_EQ(worst, 0) << "denom " << denom;
  }
}

// libjpeg-turbo's SIMD colour converters store a row that starts on a vector boundary (16 bytes for SSE2,
// 32 for AVX2) with non-temporal stores, which bypass the cache the pipeline reads the pixels from next.
// Rows laid out for a reader (Cached) never start on one, whatever the width, crop or scale, and hold the
// same pixels as packed ones.
TEST(Decode, CachedRowsNeverStartOnAVectorBoundaryAndMatchPackedRows) {
  detail::JpegReader reader;
  struct Case {
    int width, denom, x0, x1;
  };
  std::vector<Case> cases;
  for (int width = 16; width <= 80; ++width) cases.push_back({width, 1, 0, width});
  for (int width : {333, 500, 1365}) {
    for (int denom : {1, 2, 4}) cases.push_back({width, denom, width / (3 * denom), width / (2 * denom)});
  }
  for (const Case& k : cases) {
    const auto bytes = test::encode_jpeg(test::textured(k.width, 64, 3), 90);
    for (PixelFormat mode : {PixelFormat::RGB, PixelFormat::RGBA}) {
      std::vector<std::uint8_t> packed_buf, cached_buf;
      reader.read_header(bytes.data(), bytes.size(), {});
      int w = 0, h = 0;
      reader.scaled_size(k.denom, w, h);
      const auto packed = reader.decode(k.denom, mode, k.x0, k.x1, 0, h, packed_buf);
      reader.read_header(bytes.data(), bytes.size(), {});
      const auto cached =
          reader.decode(k.denom, mode, k.x0, k.x1, 0, h, cached_buf, detail::JpegReader::RowLayout::Cached);
      const std::string what = "width " + std::to_string(k.width) + " denom " + std::to_string(k.denom);
      ASSERT_EQ(cached.x0, packed.x0) << what;
      ASSERT_EQ(cached.view.width, packed.view.width) << what;
      ASSERT_EQ(cached.view.height, packed.view.height) << what;
      ASSERT_LE(cached.view.stride, static_cast<std::ptrdiff_t>(cached.view.row_bytes()) + 128) << what;
      for (int y = 0; y < cached.view.height; ++y) {
        ASSERT_NE(reinterpret_cast<std::uintptr_t>(cached.view.row(y)) % 16, 0u) << what << " row " << y;
        ASSERT_EQ(std::memcmp(cached.view.row(y), packed.view.row(y), packed.view.row_bytes()), 0)
            << what << " row " << y;
      }
    }
  }
}

TEST(Decode, ErrorsAreExceptionsWithReasons) {
  Image img = test::textured(64, 48, 3);
  auto bytes = test::encode_jpeg(img, 90);
  auto expect_error = [](const std::vector<std::uint8_t>& data, const std::string& reason, DecodeOptions o = {}) {
    try {
      decode_image(data.data(), data.size(), o);
      ADD_FAILURE() << "no error for " << reason;
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  };
  expect_error({}, "empty");
  expect_error({'h', 'e', 'l', 'l', 'o'}, "not an image");
  expect_error(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)),
               "truncated JPEG");
  std::vector<std::uint8_t> garbage = {0xFF, 0xD8, 0xFF};
  for (int i = 0; i < 500; ++i) garbage.push_back(static_cast<std::uint8_t>(i * 7));
  expect_error(garbage, "JPEG");
  DecodeOptions small;
  small.limits.max_pixels = 100;
  expect_error(bytes, "exceeds the limit of 100 pixels", small);
  expect_error(test::encode_png(img), "exceeds the limit", small);
  // The thread's reader recovers after every error.
  EXPECT_EQ(decode_image(bytes.data(), bytes.size(), {}).width, 64);
}

TEST(JpegMarkers, OnlyAFileWhoseLastScanEndsInEoiIsWhole) {
  for (bool progressive : {false, true}) {
    auto bytes = test::encode_jpeg(test::textured(40, 24, 3), 90, progressive);
    EXPECT_TRUE(detail::jpeg_reaches_eoi(bytes.data(), bytes.size()));
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      ASSERT_FALSE(detail::jpeg_reaches_eoi(bytes.data(), n)) << "cut at " << n << " progressive " << progressive;
    }
    // Trailing data after EOI is accepted, as every mainstream decoder does.
    auto trailing = bytes;
    trailing.insert(trailing.end(), {0x00, 0xFF, 0xD8, 0x12});
    EXPECT_TRUE(detail::jpeg_reaches_eoi(trailing.data(), trailing.size()));
    // An EOI inside a segment (an EXIF thumbnail) does not close the image: segments are skipped whole.
    std::vector<std::uint8_t> app1 = {0xFF, 0xE1, 0x00, 0x08, 0xFF, 0xD8, 0xFF, 0xD9, 0x00, 0x00};
    auto with_thumb = bytes;
    with_thumb.insert(with_thumb.begin() + 2, app1.begin(), app1.end());
    EXPECT_TRUE(detail::jpeg_reaches_eoi(with_thumb.data(), with_thumb.size()));
    EXPECT_FALSE(detail::jpeg_reaches_eoi(with_thumb.data(), 2 + app1.size() + 20));
  }
}

TEST(Decode, MissingFileIsAnIoErrorWithErrno) {
  std::vector<std::uint8_t> buf;
  try {
    read_file("/nonexistent/fastimg.jpg", buf);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_EQ(e.error_number(), ENOENT);
    EXPECT_EQ(e.path(), "/nonexistent/fastimg.jpg");
  }
}

TEST(Exif, OrientationParsedInBothByteOrdersAndApplied) {
  for (bool little : {true, false})
    for (int o = 1; o <= 8; ++o) {
      const auto payload = test::exif_with_orientation(o, little);
      EXPECT_EQ(detail::exif_orientation(payload.data(), payload.size()), o);
    }
  const auto payload = test::exif_with_orientation(6);
  for (std::size_t cut = 0; cut < 6 + 8 + 2 + 12; ++cut) {               // up to the end of the orientation entry
    EXPECT_EQ(detail::exif_orientation(payload.data(), cut), 0) << cut;  // truncated: absent, no overread
  }
  Image img = test::textured(50, 30, 3);
  const auto bytes = test::encode_jpeg(img, 95, false, test::exif_with_orientation(6));
  DecodeOptions o;
  o.apply_exif_orientation = true;
  DecodedImage turned = decode_both_ways(bytes, o);
  DecodedImage raw = decode_both_ways(bytes);
  ASSERT_EQ(turned.width, 30);
  ASSERT_EQ(turned.height, 50);
  // Orientation 6: stored pixel (x, y) is shown at (H - 1 - y, x).
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 50; ++x)
      ASSERT_EQ(turned.pixels[(static_cast<std::size_t>(x) * 30 + (29 - y)) * 3],
                raw.pixels[(static_cast<std::size_t>(y) * 50 + x) * 3]);
}

TEST(Exif, StoredRectAgreesWithApplyOrientation) {
  Image img = test::textured(7, 5, 1);
  for (int o = 1; o <= 8; ++o) {
    const bool swap = detail::swaps_axes(o);
    Image shown(swap ? 5 : 7, swap ? 7 : 5, 1);
    detail::apply_orientation(img.cview(), shown.view(), o);
    for (int v = 0; v < shown.height; ++v)
      for (int u = 0; u < shown.width; ++u) {
        const detail::RectF r = detail::stored_rect({double(u), double(v), u + 1.0, v + 1.0}, o, 7, 5);
        ASSERT_DOUBLE_EQ(r.x1 - r.x0, 1.0);
        ASSERT_EQ(shown.at(u, v, 0), img.at(static_cast<int>(r.x0), static_cast<int>(r.y0), 0)) << "orientation " << o;
      }
  }
}

// The pipeline orients float planes, decode_image uint8 pixels: both read orientation_ops, so they agree.
TEST(Exif, FloatOrientationAgreesWithApplyOrientation) {
  Image img = test::textured(7, 5, 3);
  std::vector<float> floats(img.pixels.begin(), img.pixels.end());
  for (int o = 1; o <= 8; ++o) {
    const bool swap = detail::swaps_axes(o);
    Image shown(swap ? 5 : 7, swap ? 7 : 5, 3);
    detail::apply_orientation(img.cview(), shown.view(), o);
    std::vector<float> turned(floats.size());
    detail::orient_floats(floats.data(), 7, 5, 3, o, turned.data());
    ASSERT_EQ(std::vector<float>(shown.pixels.begin(), shown.pixels.end()), turned) << "orientation " << o;
  }
}

}  // namespace
}  // namespace fastimg
