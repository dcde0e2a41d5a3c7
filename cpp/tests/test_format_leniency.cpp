// Faults that libpng and libtiff work around -- decoded, as Pillow decodes them, and reported under
// strict = false -- against damage that stays an error. Files are built here: libpng's output with
// chunks spliced in, and a minimal TIFF written by hand.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fastimg/decode.hpp"
#include "fastimg/errors.hpp"
#include "test_codec_helpers.hpp"

namespace fastimg {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put_be32(std::uint8_t* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

// Sized once and filled in place (GCC 12 misreads growing inserts here as an overread).
Bytes png_chunk(const std::string& type, const Bytes& payload, bool bad_crc = false) {
  Bytes out(4 + 4 + payload.size() + 4);
  put_be32(out.data(), static_cast<std::uint32_t>(payload.size()));
  std::copy(type.begin(), type.end(), out.begin() + 4);
  std::copy(payload.begin(), payload.end(), out.begin() + 8);
  const uLong crc = crc32(0L, out.data() + 4, static_cast<uInt>(4 + payload.size()));
  put_be32(out.data() + 8 + payload.size(), static_cast<std::uint32_t>(crc) ^ (bad_crc ? 1u : 0u));
  return out;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// `png` (as libpng writes it: IHDR first, then IDAT) with `chunks` right after the IHDR chunk.
Bytes after_ihdr(Bytes png, const Bytes& chunks) {
  const std::size_t end_of_ihdr = 8 + 4 + 4 + 13 + 4;
  png.insert(png.begin() + static_cast<std::ptrdiff_t>(end_of_ihdr), chunks.begin(), chunks.end());
  return png;
}

// An uncompressed one-strip 8-bit gray TIFF (little-endian) whose StripByteCounts says `byte_count`.
Bytes gray_tiff(const test::Image& img, std::uint32_t byte_count) {
  Bytes out = {'I', 'I', 42, 0, 8, 0, 0, 0};
  auto le16 = [&](unsigned v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  auto le32 = [&](std::uint32_t v) {
    le16(v & 0xFFFF);
    le16(v >> 16);
  };
  const auto w = static_cast<std::uint32_t>(img.width), h = static_cast<std::uint32_t>(img.height);
  const std::uint32_t entries[][3] = {{256, 4, w}, {257, 4, h}, {258, 3, 8}, {259, 3, 1},         {262, 3, 1},
                                      {273, 4, 0}, {277, 3, 1}, {278, 4, h}, {279, 4, byte_count}};
  const std::uint32_t count = sizeof(entries) / sizeof(entries[0]);
  const std::uint32_t data_offset = 8 + 2 + 12 * count + 4;
  le16(count);
  for (const auto& e : entries) {
    le16(e[0]);
    le16(e[1]);
    le32(1);
    const std::uint32_t value = e[0] == 273 ? data_offset : e[2];
    if (e[1] == 3) {
      le16(value);
      le16(0);
    } else {
      le32(value);
    }
  }
  le32(0);  // no next directory
  const auto pixels = img.packed();
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

struct Outcome {
  std::vector<std::uint8_t> pixels;
  std::string warning;
  std::string error;
};

Outcome decode(const Bytes& data, bool strict, PixelFormat mode = PixelFormat::RGB) {
  DecodeOptions options;
  options.mode = mode;
  options.limits.strict = strict;
  take_decode_warning();
  Outcome out;
  try {
    out.pixels = decode_image(data.data(), data.size(), options).pixels;
    out.warning = take_decode_warning();
  } catch (const DecodeError& e) {
    out.error = e.what();
  }
  return out;
}

TEST(FormatLeniency, BenignPngChunkFaultsDecodeAndAreReportedOnlyWhenNotStrict) {
  const test::Image img = test::textured(19, 11, 3);
  const Bytes png = test::encode_png(img);
  const Bytes sbit = png_chunk("sBIT", {8, 8, 8});
  const Bytes icc = png_chunk("iCCP", Bytes{'i', 'c', 'c', 0, 0} + Bytes(12, 0x78));
  const struct {
    const char* fault;
    Bytes data;
  } cases[] = {
      {"sBIT: duplicate", after_ihdr(png, sbit + sbit)},
      {"iCCP: too many profiles", after_ihdr(png, png_chunk("sRGB", {0}) + icc)},
      {"tEXt: CRC error", after_ihdr(png, png_chunk("tEXt", {'a', 0, 'b'}, true))},  // only when not strict
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fault);
    const Outcome lenient = decode(c.data, false);
    EXPECT_EQ(lenient.error, "");
    EXPECT_EQ(lenient.pixels, img.packed());
    EXPECT_NE(lenient.warning.find(std::string("decoded anyway (strict=False): ") + c.fault), std::string::npos)
        << lenient.warning;
    const Outcome strict = decode(c.data, true);
    if (std::string(c.fault).find("CRC") != std::string::npos) {
      EXPECT_EQ(strict.error, std::string("corrupt PNG: ") + c.fault);  // corrupted bytes: Pillow refuses too
    } else {
      EXPECT_EQ(strict.error, "");
      EXPECT_EQ(strict.pixels, img.packed());
      EXPECT_EQ(strict.warning, "");
    }
  }
}

TEST(FormatLeniency, CriticalPngDamageAndTrnsFaultsStayErrors) {
  const test::Image img = test::textured(19, 11, 3);
  const Bytes png = test::encode_png(img);
  Bytes bad_ihdr = png;
  bad_ihdr[8 + 4 + 4 + 13] ^= 0x01;  // first byte of IHDR's CRC
  const Bytes trns = png_chunk("tRNS", {0, 1, 0, 2, 0, 3});
  for (bool strict : {true, false}) {
    SCOPED_TRACE(strict ? "strict" : "lenient");
    EXPECT_EQ(decode(bad_ihdr, strict).error, "corrupt PNG: IHDR: CRC error");
    const Bytes cut(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() * 2 / 3));
    EXPECT_EQ(decode(cut, strict).error, "truncated PNG: the data ends early");
    // libpng keeps the first tRNS where Pillow keeps the last: the alpha would differ.
    EXPECT_EQ(decode(after_ihdr(png, trns + trns), strict, PixelFormat::RGBA).error, "corrupt PNG: tRNS: duplicate");
  }
}

TEST(FormatLeniency, TiffStripByteCountsRecalculatedByLibtiffDecode) {
  const test::Image img = test::textured(13, 7, 1);
  const auto size = static_cast<std::uint32_t>(img.width * img.height);
  for (std::uint32_t bogus : {0u, 5u, 100000u}) {
    SCOPED_TRACE(bogus);
    const Bytes tiff = gray_tiff(img, bogus);
    const Outcome strict = decode(tiff, true, PixelFormat::L);
    EXPECT_EQ(strict.error, "");
    EXPECT_EQ(strict.pixels, img.packed());
    EXPECT_EQ(strict.warning, "");
    const Outcome lenient = decode(tiff, false, PixelFormat::L);
    EXPECT_EQ(lenient.pixels, img.packed());
    EXPECT_NE(lenient.warning.find("corrupt TIFF data, decoded anyway (strict=False): Bogus \"StripByteCounts\""),
              std::string::npos)
        << lenient.warning;
  }
  // A strip that really is cut short still fails, whatever the count says.
  const Bytes whole = gray_tiff(img, size);
  for (std::uint32_t count : {0u, size}) {
    Bytes cut = gray_tiff(img, count);
    cut.resize(whole.size() - size / 2);
    EXPECT_NE(decode(cut, false, PixelFormat::L).error.find("truncated TIFF: "), std::string::npos);
  }
}

}  // namespace
}  // namespace fastimg
