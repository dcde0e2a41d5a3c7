#include "jpeg_splice.hpp"

// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on

#include <algorithm>
#include <cstring>

namespace fastimg::detail {

namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// libjpeg-turbo decodes an MCU on its fast Huffman path (for files with restart intervals since the reader's
// decode_mcu_with_restarts), which reads up to 8 bytes ahead of the bits it uses, and decodes it again on the
// slow path when that read-ahead meets a marker. kRestartRunway zero bytes between an interval's data and its
// RSTn keep the read-ahead off the marker (the bits after an interval's last MCU are discarded at the restart;
// libjpeg counts the bytes as extraneous, a benign warning, and the reader checks that none was decoded as
// data). The fast path also wants 512 bytes per block of an MCU left in the buffer, hence the tail after EOI.
constexpr std::size_t kTailRunway = 512 * D_MAX_BLOCKS_IN_MCU;

std::size_t segment_length(const std::uint8_t* data, std::size_t at) {
  return 2 + ((static_cast<std::size_t>(data[at + 2]) << 8) | data[at + 3]);
}

// The headers up to and including the scan header, less the segments no decoder of the splice reads:
// APP1..13 and APP15 (EXIF, XMP, ICC: orientation was read from the original) and comments. JFIF (APP0)
// and Adobe (APP14) decide the colour space and stay, as does everything that is not APPn.
void copy_headers(const std::uint8_t* data, const JpegLayout& layout, std::vector<std::uint8_t>& out) {
  out.insert(out.end(), data, data + 2);  // SOI
  std::size_t pos = 2;
  const std::size_t end = layout.scan_data;
  while (pos < end) {
    if (data[pos] != 0xFF || pos + 1 >= end) {  // stray bytes the walk stepped over
      ++pos;
      continue;
    }
    const std::uint8_t marker = data[pos + 1];
    if (marker == 0xFF || marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      ++pos;
      continue;
    }
    const std::size_t length = segment_length(data, pos);
    const bool skipped = (marker >= 0xE1 && marker <= 0xED) || marker == 0xEF || marker == 0xFE;
    if (!skipped) out.insert(out.end(), data + pos, data + pos + length);
    pos += length;
  }
}

void put16(std::uint8_t* p, int v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v & 0xFF);
}

}  // namespace

RestartGrid restart_grid(int width, int height, int max_h, int max_v, bool single, int interval) {
  RestartGrid g;
  g.mcu_w = single ? 8 : 8 * max_h;
  g.mcu_h = single ? 8 : 8 * max_v;
  if (width <= 0 || height <= 0 || g.mcu_w <= 0 || g.mcu_h <= 0) return g;
  g.mcus_x = ceil_div(width, g.mcu_w);
  g.mcus_y = ceil_div(height, g.mcu_h);
  if (interval <= 0) return g;
  if (g.mcus_x % interval == 0) {
    g.across = g.mcus_x / interval;
  } else if (interval % g.mcus_x == 0) {
    g.down = interval / g.mcus_x;
  } else {
    return g;
  }
  g.interval = interval;
  return g;
}

RestartGrid file_restart_grid(const jpeg_decompress_struct& c, const JpegLayout& layout) {
  if (c.restart_interval == 0 || c.progressive_mode || c.arith_code || layout.scans != 1 ||
      c.comps_in_scan != c.num_components || layout.frame == 0) {
    return RestartGrid{};
  }
  const bool single = c.num_components == 1;
  RestartGrid g = restart_grid(static_cast<int>(c.image_width), static_cast<int>(c.image_height), c.max_h_samp_factor,
                               c.max_v_samp_factor, single, static_cast<int>(c.restart_interval));
  g.splices = g.interval > 0 && (!single || (c.comp_info[0].h_samp_factor == 1 && c.comp_info[0].v_samp_factor == 1));
  return g;
}

const char* restart_damage(const JpegLayout& layout, const RestartGrid& grid) {
  if (!layout.restarts_in_order) return "restart markers out of order (or one is missing)";
  const std::size_t expected = static_cast<std::size_t>(grid.count()) - 1;
  const std::size_t found = layout.restarts.size();
  if (found < expected) return "restart markers missing (fewer intervals than the image has rows for)";
  if (found > expected + 1 || (found == expected + 1 && layout.restarts.back() + 2 != layout.scan_end)) {
    return "more restart intervals than the image has MCUs for";
  }
  return nullptr;
}

bool splice_region(const std::uint8_t* data, const JpegLayout& layout, const RestartGrid& g, int width, int height,
                   int x0, int x1, int y0, int y1, int margin, std::vector<std::uint8_t>& out, SpliceOrigin& origin) {
  // MCUs wanted with their margin, then whole intervals.
  const int c0 = std::max(0, x0 / g.mcu_w - margin), c1 = std::min(g.mcus_x, ceil_div(x1, g.mcu_w) + margin);
  const int r0 = std::max(0, y0 / g.mcu_h - margin), r1 = std::min(g.mcus_y, ceil_div(y1, g.mcu_h) + margin);
  const int span = g.down > 1 ? g.mcus_x : g.interval;  // MCUs per interval along a row
  const int j0 = c0 / span, j1 = ceil_div(c1, span);
  const int i0 = r0 / g.down, i1 = ceil_div(r1, g.down);
  const int rows_of_intervals = ceil_div(g.mcus_y, g.down);
  if (j0 == 0 && j1 == g.across && i0 == 0 && i1 == rows_of_intervals) return false;

  out.clear();
  copy_headers(data, layout, out);
  origin.x = j0 * span * g.mcu_w;
  origin.y = i0 * g.down * g.mcu_h;
  const int new_w = j1 == g.across ? width - origin.x : (j1 - j0) * span * g.mcu_w;
  const int new_h = i1 == rows_of_intervals ? height - origin.y : (i1 - i0) * g.down * g.mcu_h;
  // The frame header is copied unchanged (it precedes the scan): find it again in `out` to set the size.
  const std::size_t scan_in_out = out.size() - (layout.scan_data - layout.scan);
  std::size_t pos = 2;
  while (pos < scan_in_out) {
    const std::uint8_t m = out[pos + 1];
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      put16(&out[pos + 5], new_h);
      put16(&out[pos + 7], new_w);
      break;
    }
    pos += segment_length(out.data(), pos);
  }
  const std::size_t restarts = layout.restarts.size();
  int written = 0;
  for (int i = i0; i < i1; ++i) {
    for (int j = j0; j < j1; ++j) {
      const std::size_t k =
          static_cast<std::size_t>(i) * static_cast<std::size_t>(g.across) + static_cast<std::size_t>(j);
      const std::size_t begin = k == 0 ? layout.scan_data : layout.restarts[k - 1] + 2;
      const std::size_t end = k < restarts ? layout.restarts[k] : layout.scan_end;
      if (written > 0) {
        out.insert(out.end(), kRestartRunway, 0);
        out.push_back(0xFF);
        out.push_back(static_cast<std::uint8_t>(0xD0 + (written - 1) % 8));
      }
      out.insert(out.end(), data + begin, data + end);
      ++written;
    }
  }
  // EOI right after the last interval (data that ends early meets it, as in the file), the tail after it:
  // libjpeg never reads past EOI, but counts the bytes when it decides on the fast path.
  out.push_back(0xFF);
  out.push_back(0xD9);
  out.insert(out.end(), kTailRunway, 0);
  return true;
}

}  // namespace fastimg::detail
