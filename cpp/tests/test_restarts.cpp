// Restart-interval splicing (jpeg_splice.hpp) and lossless preparation (fastimg/prepare.hpp): a crop
// decoded from the intervals covering it has the pixels of the whole-file decode, in every mode and at
// every scale; preparing changes no pixel; damaged restart sequences fail whatever the crop.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../src/codecs/jpeg_markers.hpp"
#include "../src/codecs/jpeg_reader.hpp"
#include "../src/codecs/jpeg_splice.hpp"
#include "fastimg/decode.hpp"
#include "fastimg/errors.hpp"
#include "fastimg/prepare.hpp"
#include "test_codec_helpers.hpp"

namespace fastimg {
namespace {

using test::Image;

struct Sampling {
  int h, v;  // luma sampling factors (chroma 1x1); grey when channels == 1
};

std::vector<std::uint8_t> encode_with_restarts(const Image& img, Sampling s, int interval, bool progressive = false,
                                               bool approximate = false) {
  test::JpegOptions o;
  o.quality = 88;
  o.luma_h = s.h;
  o.luma_v = s.v;
  o.restart_interval = interval;
  o.progressive = progressive;
  o.approximate_ac = approximate;
  return test::encode_jpeg_with(img, o);
}

// Turns splicing off for the scope (the reference decodes), back on after.
struct WholeFile {
  WholeFile() { set_restart_splicing(false); }
  ~WholeFile() { set_restart_splicing(true); }
};

// The region [x0, x1) x [y0, y1) of a decode at 1/denom, packed.
std::vector<std::uint8_t> region_pixels(const std::vector<std::uint8_t>& bytes, int denom, PixelFormat mode, int x0,
                                        int x1, int y0, int y1) {
  detail::JpegReader& reader = detail::thread_jpeg_reader();
  reader.read_header(bytes.data(), bytes.size(), {});
  std::vector<std::uint8_t> buffer;
  const detail::DecodedRegion r = reader.decode(denom, mode, x0, x1, y0, y1, buffer);
  EXPECT_LE(r.x0, x0);
  EXPECT_GE(r.x0 + r.view.width, x1);
  EXPECT_EQ(r.y0, y0);
  std::vector<std::uint8_t> out;
  const int ch = r.view.channels;
  for (int y = 0; y < y1 - y0; ++y) {
    const std::uint8_t* row = r.view.row(y) + static_cast<std::ptrdiff_t>(x0 - r.x0) * ch;
    out.insert(out.end(), row, row + static_cast<std::ptrdiff_t>(x1 - x0) * ch);
  }
  return out;
}

struct Case {
  int width, height;
  Sampling sampling;
  int channels;
  int interval;  // MCUs
};

// Rectangles touching every edge, the middle, single pixels and whole rows.
std::vector<std::array<int, 4>> rects(int w, int h) {
  return {{0, w, 0, h},
          {w / 3, w / 3 + w / 4, h / 5, h / 2},
          {0, 7, 0, 5},
          {w - 9, w, h - 3, h},
          {w / 2, w / 2 + 1, h / 2, h / 2 + 1},
          {0, w, h / 3, h / 3 + 17},
          {w / 5, w, 0, h / 7 + 1}};
}

TEST(RestartSplice, CropsEqualTheWholeFileDecodeInEveryModeAndScale) {
  const std::vector<Case> cases = {
      {333, 250, {2, 2}, 3, 3},   // 4:2:0, interval divides the 21-MCU row
      {500, 375, {2, 1}, 3, 4},   // 4:2:2, 32 MCUs a row
      {256, 200, {1, 1}, 3, 2},   // 4:4:4
      {240, 130, {1, 2}, 3, 5},   // 4:4:0
      {199, 121, {1, 1}, 1, 5},   // grey (single-component scan: 8x8 MCUs), 25 a row
      {300, 170, {2, 2}, 3, 38},  // whole rows: 19 MCUs a row, 2 rows an interval
  };
  int spliced = 0;
  for (const Case& k : cases) {
    const Image img = test::textured(k.width, k.height, k.channels);
    const auto bytes = encode_with_restarts(img, k.sampling, k.interval);
    for (int denom : {1, 2, 4, 8}) {
      const int w = (k.width + denom - 1) / denom, h = (k.height + denom - 1) / denom;
      for (PixelFormat mode : {PixelFormat::RGB, PixelFormat::L, PixelFormat::RGBA}) {
        for (const auto& r : rects(w, h)) {
          const int x0 = std::max(0, r[0]), x1 = std::min(w, std::max(r[1], x0 + 1));
          const int y0 = std::max(0, r[2]), y1 = std::min(h, std::max(r[3], y0 + 1));
          std::vector<std::uint8_t> whole;
          {
            WholeFile off;
            whole = region_pixels(bytes, denom, mode, 0, w, 0, h);
          }
          const auto part = region_pixels(bytes, denom, mode, x0, x1, y0, y1);
          spliced += detail::thread_jpeg_reader().spliced();
          const int ch = channels_of(mode);
          int worst = 0;
          for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x)
              for (int c = 0; c < ch; ++c) {
                const int a = part[(static_cast<std::size_t>(y - y0) * (x1 - x0) + (x - x0)) * ch + c];
                const int b = whole[(static_cast<std::size_t>(y) * w + x) * ch + c];
                worst = std::max(worst, std::abs(a - b));
              }
          ASSERT_EQ(worst, 0) << k.width << "x" << k.height << " samp " << k.sampling.h << "x" << k.sampling.v
                              << " interval " << k.interval << " denom " << denom << " mode " << ch << " rect " << x0
                              << ".." << x1 << " x " << y0 << ".." << y1;
        }
      }
    }
  }
  EXPECT_GT(spliced, 300);
}

TEST(RestartSplice, PlanesEqualTheWholeFilePlanes) {
  int spliced = 0;
  for (Sampling s : {Sampling{2, 2}, Sampling{2, 1}, Sampling{1, 1}}) {
    const Image img = test::textured(333, 250, 3);
    const auto bytes = encode_with_restarts(img, s, 3);
    for (int denom : {1, 2, 4, 8}) {
      const int w = (333 + denom - 1) / denom, h = (250 + denom - 1) / denom;
      for (const auto& r : rects(w, h)) {
        detail::JpegReader& reader = detail::thread_jpeg_reader();
        std::vector<std::uint8_t> a_buf, b_buf;
        reader.read_header(bytes.data(), bytes.size(), {});
        const detail::DecodedPlanes a = reader.decode_planes(denom, r[0], r[1], r[2], r[3], a_buf);
        spliced += reader.spliced();
        detail::DecodedPlanes b;
        {
          WholeFile off;
          reader.read_header(bytes.data(), bytes.size(), {});
          b = reader.decode_planes(denom, r[0], r[1], r[2], r[3], b_buf);
        }
        ASSERT_EQ(a.x0, b.x0);
        ASSERT_EQ(a.y0, b.y0);
        for (int p = 0; p < 3; ++p) {
          ASSERT_EQ(a.scale_x[p], b.scale_x[p]);
          // The planes cover the region in both; compare what both hold.
          ASSERT_GE((a.planes[p].width) * a.scale_x[p], std::min(r[1], w) - a.x0);
          const int pw = std::min(a.planes[p].width, b.planes[p].width);
          const int ph = std::min(a.planes[p].height, b.planes[p].height);
          ASSERT_GE(ph * a.scale_y[p], std::min(r[3], h) - a.y0 - a.scale_y[p]);
          for (int y = 0; y < ph; ++y)
            ASSERT_EQ(0, std::memcmp(a.planes[p].row(y), b.planes[p].row(y), static_cast<std::size_t>(pw)))
                << "plane " << p << " row " << y << " denom " << denom << " samp " << s.h << "x" << s.v;
        }
      }
    }
  }
  EXPECT_GT(spliced, 40);
}

// Restart intervals change no coefficient: with libjpeg's standard tables the file with intervals holds the
// coefficients of the file without. Its whole-file decode (the reader's own restart bookkeeping, fast Huffman
// path between restarts) must give the same pixels and planes at every scale, for intervals of 1 MCU, of
// several, that do not divide the row, and of whole rows.
TEST(Decode, RestartIntervalsChangeNoPixel) {
  struct Plain {
    Sampling sampling;
    int channels;
    int interval;
  };
  const std::vector<Plain> cases = {{{2, 2}, 3, 1}, {{2, 2}, 3, 2},  {{2, 2}, 3, 4}, {{2, 1}, 3, 3}, {{1, 1}, 3, 7},
                                    {{1, 2}, 3, 5}, {{2, 2}, 3, 21}, {{1, 1}, 1, 2}, {{1, 1}, 1, 42}};
  WholeFile off;
  for (const Plain& k : cases) {
    const Image img = test::textured(333, 250, k.channels);
    const auto with = encode_with_restarts(img, k.sampling, k.interval);
    const auto without = encode_with_restarts(img, k.sampling, 0);
    for (int denom : {1, 2, 4, 8}) {
      const int w = (333 + denom - 1) / denom, h = (250 + denom - 1) / denom;
      for (PixelFormat mode : {PixelFormat::RGB, PixelFormat::L}) {
        ASSERT_EQ(region_pixels(with, denom, mode, 0, w, 0, h), region_pixels(without, denom, mode, 0, w, 0, h))
            << "samp " << k.sampling.h << "x" << k.sampling.v << " interval " << k.interval << " denom " << denom;
        // A crop of the whole file: MCUs right of it are not decoded where rows hold whole intervals.
        const int x0 = w / 5, x1 = std::max(x0 + 1, w / 2), y0 = h / 4, y1 = std::max(y0 + 1, 3 * h / 4);
        ASSERT_EQ(region_pixels(with, denom, mode, x0, x1, y0, y1), region_pixels(without, denom, mode, x0, x1, y0, y1))
            << "crop, interval " << k.interval << " denom " << denom;
      }
      if (k.channels != 3) continue;
      detail::JpegReader& reader = detail::thread_jpeg_reader();
      std::vector<std::uint8_t> a_buf, b_buf;
      reader.read_header(with.data(), with.size(), {});
      const detail::DecodedPlanes a = reader.decode_planes(denom, 0, w / 2, h / 3, h, a_buf);
      reader.read_header(without.data(), without.size(), {});
      const detail::DecodedPlanes b = reader.decode_planes(denom, 0, w / 2, h / 3, h, b_buf);
      for (int p = 0; p < 3; ++p) {
        ASSERT_EQ(a.planes[p].height, b.planes[p].height);
        for (int y = 0; y < a.planes[p].height; ++y)
          ASSERT_EQ(0, std::memcmp(a.planes[p].row(y), b.planes[p].row(y), static_cast<std::size_t>(a.planes[p].width)))
              << "plane " << p << " row " << y << " interval " << k.interval << " denom " << denom;
      }
    }
  }
}

TEST(RestartSplice, SplicesOnlyWhatTheGridAllows) {
  // 21 MCUs a row: 3 and 7 divide it, 42 is two rows; 4 neither divides nor is whole rows.
  EXPECT_EQ(detail::restart_grid(333, 250, 2, 2, false, 3).across, 7);
  EXPECT_EQ(detail::restart_grid(333, 250, 2, 2, false, 42).down, 2);
  EXPECT_EQ(detail::restart_grid(333, 250, 2, 2, false, 4).interval, 0);
  EXPECT_EQ(detail::restart_grid(333, 250, 2, 2, false, 0).interval, 0);
  EXPECT_EQ(detail::restart_grid(333, 250, 2, 2, true, 1).mcus_x, 42);  // single component: 8x8 MCUs

  const Image img = test::textured(333, 250, 3);
  const auto bytes = encode_with_restarts(img, {2, 2}, 3);
  detail::JpegLayout layout;
  ASSERT_TRUE(detail::jpeg_reaches_eoi(bytes.data(), bytes.size(), &layout));
  const detail::RestartGrid grid = detail::restart_grid(333, 250, 2, 2, false, 3);
  EXPECT_EQ(layout.restarts.size(), static_cast<std::size_t>(grid.count() - 1));
  EXPECT_EQ(detail::restart_damage(layout, grid), nullptr);
  std::vector<std::uint8_t> out;
  detail::SpliceOrigin origin;
  EXPECT_FALSE(detail::splice_region(bytes.data(), layout, grid, 333, 250, 0, 333, 0, 250, 1, out, origin));
  ASSERT_TRUE(detail::splice_region(bytes.data(), layout, grid, 333, 250, 100, 150, 100, 140, 1, out, origin));
  // One MCU (16 px) of margin, then whole 48-px intervals: columns 48..192, rows 80..160.
  EXPECT_EQ(origin.x, 48);
  EXPECT_EQ(origin.y, 80);
  EXPECT_LT(out.size(), bytes.size() / 3);
  const DecodedImage piece = decode_image(out.data(), out.size(), {});
  EXPECT_EQ(piece.width, 144);
  EXPECT_EQ(piece.height, 80);
  // Without the margin (raw-data planes): columns 96..192 (two intervals), rows 96..144.
  ASSERT_TRUE(detail::splice_region(bytes.data(), layout, grid, 333, 250, 100, 150, 100, 140, 0, out, origin));
  EXPECT_EQ(origin.x, 96);
  EXPECT_EQ(origin.y, 96);
}

// The byte offset of the n-th RSTn marker's code.
std::size_t restart_at(const std::vector<std::uint8_t>& bytes, std::size_t n) {
  detail::JpegLayout layout;
  EXPECT_TRUE(detail::jpeg_reaches_eoi(bytes.data(), bytes.size(), &layout));
  return layout.restarts.at(n) + 1;
}

TEST(RestartSplice, DamagedRestartSequencesFailWhateverTheCrop) {
  const Image img = test::textured(333, 250, 3);
  const auto bytes = encode_with_restarts(img, {2, 2}, 3);
  auto swapped = bytes;
  std::swap(swapped[restart_at(bytes, 10)], swapped[restart_at(bytes, 11)]);
  auto missing = bytes;  // an RSTn turned into stuffed data: one interval fewer
  missing[restart_at(bytes, 40)] = 0x00;
  for (const auto* damaged : {&swapped, &missing}) {
    detail::JpegReader reader;
    try {
      reader.read_header(damaged->data(), damaged->size(), {});
      ADD_FAILURE() << "no error";
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find("restart markers"), std::string::npos) << e.what();
    }
    DecodeLimits lenient;
    lenient.strict = false;
    EXPECT_NO_THROW(reader.read_header(damaged->data(), damaged->size(), lenient));
  }
}

struct PlainDecoder {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr err{};
  std::jmp_buf jump{};
};

[[noreturn]] void plain_error_exit(j_common_ptr c) {
  std::longjmp(static_cast<PlainDecoder*>(c->client_data)->jump, 1);
}
void plain_ignore(j_common_ptr, int) {}

// libjpeg's own RGB decode of the whole file, its warnings ignored: the reference for lenient decodes.
bool plain_libjpeg_rgb(const std::vector<std::uint8_t>& bytes, std::vector<std::uint8_t>& out) {
  PlainDecoder d;
  d.cinfo.err = jpeg_std_error(&d.err);
  d.err.error_exit = plain_error_exit;
  d.err.emit_message = plain_ignore;
  d.cinfo.client_data = &d;
  jpeg_create_decompress(&d.cinfo);
  if (setjmp(d.jump)) {
    jpeg_destroy_decompress(&d.cinfo);
    return false;
  }
  jpeg_mem_src(&d.cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&d.cinfo, TRUE);
  d.cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&d.cinfo);
  const std::size_t stride = static_cast<std::size_t>(d.cinfo.output_width) * 3;
  out.assign(stride * d.cinfo.output_height, 0);
  while (d.cinfo.output_scanline < d.cinfo.output_height) {
    JSAMPROW row = out.data() + d.cinfo.output_scanline * stride;
    jpeg_read_scanlines(&d.cinfo, &row, 1);
  }
  jpeg_destroy_decompress(&d.cinfo);
  return true;
}

// Under strict = false a damaged file decodes whole, through the reader's restart bookkeeping: libjpeg's
// resynchronisation must come out as libjpeg's own decode does, for damaged markers and damaged data.
TEST(Decode, DamagedRestartFilesDecodeLenientlyAsLibjpegDoes) {
  const Image img = test::textured(333, 250, 3);
  const auto bytes = encode_with_restarts(img, {2, 2}, 3);
  auto swapped = bytes;
  std::swap(swapped[restart_at(bytes, 10)], swapped[restart_at(bytes, 11)]);
  auto missing = bytes;
  missing[restart_at(bytes, 40)] = 0x00;
  auto garbled = bytes;  // bit errors inside one interval
  for (std::size_t i = restart_at(bytes, 60) + 4; i < restart_at(bytes, 61) - 4; i += 3) garbled[i] ^= 0x5A;
  auto early = bytes;  // an interval's data cut short by its own RSTn
  const std::size_t cut = restart_at(bytes, 70) + 3;
  early[cut] = 0xFF;
  early[cut + 1] = static_cast<std::uint8_t>(0xD0 + 71 % 8);
  DecodeLimits lenient;
  lenient.strict = false;
  std::vector<std::uint8_t> intact;
  ASSERT_TRUE(plain_libjpeg_rgb(bytes, intact));
  int differ_from_intact = 0;
  const std::pair<const char*, const std::vector<std::uint8_t>*> cases[] = {
      {"swapped", &swapped}, {"missing", &missing}, {"garbled", &garbled}, {"early", &early}};
  for (const auto& [name, damaged] : cases) {
    std::vector<std::uint8_t> expected;
    ASSERT_TRUE(plain_libjpeg_rgb(*damaged, expected));
    detail::JpegReader reader;
    reader.read_header(damaged->data(), damaged->size(), lenient);
    std::vector<std::uint8_t> buffer;
    const detail::DecodedRegion r = reader.decode(1, PixelFormat::RGB, 0, 333, 0, 250, buffer);
    ASSERT_EQ(r.view.width, 333);
    std::vector<std::uint8_t> got;
    for (int y = 0; y < 250; ++y) got.insert(got.end(), r.view.row(y), r.view.row(y) + 333 * 3);
    EXPECT_EQ(got, expected) << name;
    differ_from_intact += got != intact;
  }
  EXPECT_EQ(differ_from_intact, 4);  // each damage shows: the comparison is not between intact decodes
}

// Extra bytes before an RSTn are libjpeg's benign "extraneous bytes" (real scanners write thousands; every
// mainstream decoder shows the image): they decode in strict mode, whole and cropped, to the pixels of the
// file without them. Data an interval lacks (its decode runs into the marker) is damage: strict refuses it;
// strict = false decodes it and records it once, also after benign messages about the headers (libjpeg's
// warning count, which the record once shared, counts those too).
TEST(Decode, ExtraBytesBeforeRestartsDecodeAndMissingDataIsRecorded) {
  const Image img = test::textured(333, 250, 3);
  const auto bytes = encode_with_restarts(img, {2, 2}, 3);  // 7 intervals a row
  const auto marker_31 = static_cast<std::ptrdiff_t>(restart_at(bytes, 31) - 1);
  auto generous = bytes;  // interval 31's data intact, then bytes no decoder reads
  generous.insert(generous.begin() + marker_31, {0x12, 0x34, 0x56});
  auto cut = bytes;  // interval 31 without its last 12 bytes
  cut.erase(cut.begin() + marker_31 - 12, cut.begin() + marker_31);
  auto noisy = cut;  // and garbage between two header segments before that
  const std::uint8_t dqt_marker[] = {0xFF, 0xDB};
  noisy.insert(std::search(noisy.begin(), noisy.end(), std::begin(dqt_marker), std::end(dqt_marker)), {0x00, 0x11});
  const int row = 30 / 7 * 16;  // interval 31's MCU row, in pixels
  const std::array<int, 4> rects[] = {{0, 333, 0, 250}, {40, 200, row - 10, row + 30}};
  for (const auto& r : rects) {
    EXPECT_EQ(region_pixels(generous, 1, PixelFormat::RGB, r[0], r[1], r[2], r[3]),
              region_pixels(bytes, 1, PixelFormat::RGB, r[0], r[1], r[2], r[3]));
  }
  DecodeLimits lenient;
  lenient.strict = false;
  for (const auto* damaged : {&cut, &noisy}) {
    for (const auto& r : rects) {
      detail::JpegReader reader;
      reader.read_header(damaged->data(), damaged->size(), {});
      std::vector<std::uint8_t> buffer;
      EXPECT_THROW(reader.decode(1, PixelFormat::RGB, r[0], r[1], r[2], r[3], buffer), DecodeError);
      take_decode_warning();
      reader.read_header(damaged->data(), damaged->size(), lenient);
      EXPECT_NO_THROW(reader.decode(1, PixelFormat::RGB, r[0], r[1], r[2], r[3], buffer));
      EXPECT_NE(take_decode_warning().find("corrupt JPEG data"), std::string::npos)
          << (damaged == &cut ? "cut" : "noisy") << " rect " << r[0];
    }
  }
}

// The file without its segments of the given marker (0xC4 DHT, 0xDB DQT).
std::vector<std::uint8_t> without_segments(const std::vector<std::uint8_t>& bytes, std::uint8_t marker) {
  std::vector<std::uint8_t> out(bytes.begin(), bytes.begin() + 2);
  std::size_t pos = 2;
  while (pos + 4 <= bytes.size() && bytes[pos] == 0xFF && bytes[pos + 1] != 0xDA) {
    const std::size_t length = 2 + ((static_cast<std::size_t>(bytes[pos + 2]) << 8) | bytes[pos + 3]);
    if (bytes[pos + 1] != marker) out.insert(out.end(), bytes.begin() + pos, bytes.begin() + pos + length);
    pos += length;
  }
  out.insert(out.end(), bytes.begin() + pos, bytes.end());
  return out;
}

// A reused decompressor keeps tables from one image to the next; a file that leaves a slot undefined must
// decode as with a fresh one (standard Huffman tables; no quantisation table: an error), whatever came before.
TEST(Decode, TablesOfThePreviousImageNeverLeakIntoTheNext) {
  const Image img = test::textured(96, 64, 3);
  const auto standard = test::encode_jpeg(img, 90);  // libjpeg's standard Huffman tables
  const auto no_dht = without_segments(standard, 0xC4);
  const auto no_dqt = without_segments(standard, 0xDB);
  ASSERT_LT(no_dht.size(), standard.size());
  const auto previous = prepare_jpeg(standard.data(), standard.size(), 0).bytes;  // optimised tables
  const DecodedImage fresh = decode_image(standard.data(), standard.size(), {});
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(decode_image(previous.data(), previous.size(), {}).pixels, fresh.pixels);
    EXPECT_EQ(decode_image(no_dht.data(), no_dht.size(), {}).pixels, fresh.pixels) << "round " << round;
    EXPECT_THROW(decode_image(no_dqt.data(), no_dqt.size(), {}), DecodeError);
  }
}

TEST(Prepare, PixelsAreTheOriginalsAtEveryScaleAndPreparingTwiceKeepsTheFile) {
  const std::vector<std::uint8_t> exif = test::exif_with_orientation(6);
  for (bool progressive : {false, true}) {
    for (int channels : {1, 3}) {
      const Image img = test::textured(301, 203, channels);
      const auto original = test::encode_jpeg(img, 90, progressive, exif);
      const PreparedJpeg p = prepare_jpeg(original.data(), original.size(), 0);
      ASSERT_EQ(p.outcome, PreparedJpeg::Outcome::Prepared);
      // 301 px: 19 MCUs a row for 4:2:0 (prime), 38 for grey; dense texture: one MCU an interval.
      EXPECT_GE(p.interval, 1);
      EXPECT_EQ((channels == 3 ? 19 : 38) % p.interval, 0);
      for (int denom : {1, 2, 4, 8}) {
        DecodeOptions o;
        o.min_width = (301 + denom - 1) / denom;
        o.min_height = (203 + denom - 1) / denom;
        o.apply_exif_orientation = true;
        const DecodedImage a = decode_image(original.data(), original.size(), o);
        const DecodedImage b = decode_image(p.bytes.data(), p.bytes.size(), o);
        ASSERT_EQ(a.width, b.width);
        ASSERT_EQ(a.height, b.height);  // orientation 6 kept: both turned
        ASSERT_EQ(a.pixels, b.pixels) << "denom " << denom << " progressive " << progressive;
      }
      const PreparedJpeg again = prepare_jpeg(p.bytes.data(), p.bytes.size(), 0);
      EXPECT_EQ(again.outcome, PreparedJpeg::Outcome::AlreadyPrepared);
      EXPECT_TRUE(again.bytes.empty());
      EXPECT_EQ(prepare_jpeg(p.bytes.data(), p.bytes.size(), p.interval + 1).outcome, PreparedJpeg::Outcome::Prepared);
    }
  }
}

TEST(Prepare, RefusesWhatItCannotReadWhole) {
  const auto bytes = test::encode_jpeg(test::textured(64, 48, 3), 90);
  const std::vector<std::uint8_t> png = test::encode_png(test::textured(8, 8, 3));
  EXPECT_EQ(prepare_jpeg(png.data(), png.size(), 0).outcome, PreparedJpeg::Outcome::NotJpeg);
  EXPECT_THROW(prepare_jpeg(bytes.data(), bytes.size() / 2, 0), DecodeError);
  auto corrupt = bytes;  // a restart marker in a file without restarts: libjpeg would fill the rest with grey
  corrupt[bytes.size() / 2] = 0xFF;
  corrupt[bytes.size() / 2 + 1] = 0xD3;
  EXPECT_THROW(prepare_jpeg(corrupt.data(), corrupt.size(), 0), DecodeError);
  EXPECT_THROW(prepare_jpeg(bytes.data(), bytes.size(), -1), InvalidArgument);
  // Progressive scans that leave the AC coefficients approximate: libjpeg smooths the blocks of such a file,
  // and a baseline copy would not be smoothed.
  const auto approximate = encode_with_restarts(test::textured(64, 48, 3), {2, 2}, 0, true, true);
  EXPECT_NO_THROW(decode_image(approximate.data(), approximate.size(), {}));
  try {
    prepare_jpeg(approximate.data(), approximate.size(), 0);
    ADD_FAILURE() << "prepared a file whose decode is smoothed";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("approximate"), std::string::npos) << e.what();
  }
  EXPECT_EQ(default_restart_interval(32, 130.0), 1);  // camera-like: one MCU
  EXPECT_EQ(default_restart_interval(32, 33.0), 4);   // ~1 bit/pixel: 4 MCUs, 132 bytes
  EXPECT_EQ(default_restart_interval(21, 50.0), 3);
  EXPECT_EQ(default_restart_interval(125, 30.0), 5);  // 2000 px at 4:2:0
  EXPECT_EQ(default_restart_interval(23, 60.0), 23);  // prime row, too sparse for single MCUs: whole rows
  EXPECT_EQ(default_restart_interval(1, 10.0), 1);
}

}  // namespace
}  // namespace fastimg
