// Internal: decoding a crop from the restart intervals that cover it. A single-scan baseline JPEG with
// restart markers is a sequence of intervals that each restart the DC predictors and start on a byte:
// when an interval is a whole fraction of an MCU row (or whole rows), the intervals covering an
// MCU-aligned rectangle, renumbered RST0..7 behind the original headers with the rectangle's size in the
// frame header, are an ordinary smaller JPEG whose pixels are the original's (chroma upsampling reads one
// neighbour: one MCU of margin keeps the region exact at every DCT scale). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "jpeg_markers.hpp"

struct jpeg_decompress_struct;  // libjpeg's

namespace fastimg::detail {

// Zero bytes a splice puts between an interval's data and its RSTn (see splice_region): an interval that
// decodes to its end leaves at least these before the marker (more where the file itself had extra bytes).
constexpr std::size_t kRestartRunway = 8;

// How a scan's restart intervals tile its MCUs.
struct RestartGrid {
  int mcu_w = 0, mcu_h = 0;    // stored pixels per MCU
  int mcus_x = 0, mcus_y = 0;  // MCUs per row, MCU rows
  int interval = 0;            // MCUs per interval; 0: the intervals cannot be cut out (or there are none)
  int across = 1;              // intervals per MCU row (interval divides mcus_x)
  int down = 1;                // MCU rows per interval (interval is a multiple of mcus_x)
  bool splices = false;        // file_restart_grid: the reader splices it
  int count() const { return across * ((mcus_y + down - 1) / down); }
};

// The scan's grid: `max_h`/`max_v` are the largest sampling factors, `single` whether the scan holds one
// component (its MCU is one 8x8 block), `interval` the DRI value. interval stays 0 when no rectangle can be
// cut: no restarts, or an interval that neither divides a row nor is whole rows.
RestartGrid restart_grid(int width, int height, int max_h, int max_v, bool single, int interval);

// The grid of a file libjpeg read the header of, with `layout` its walk: interval 0 unless it is one
// Huffman-coded sequential scan of every component with restart intervals restart_grid can cut. `splices`
// also requires what the reader needs to cut it (a lone component with 1x1 sampling). The one rule for the
// reader and for prepare_jpeg.
RestartGrid file_restart_grid(const jpeg_decompress_struct& c, const JpegLayout& layout);

// Why the walked markers do not fit `grid` (intervals missing, extra or out of order), or nullptr when
// they do. A trailing marker after the last interval is tolerated, as decoders ignore it.
const char* restart_damage(const JpegLayout& layout, const RestartGrid& grid);

// Where a spliced image lies in the original: its stored pixel (0, 0) is the original's (x, y).
struct SpliceOrigin {
  int x = 0, y = 0;
};

// Writes to `out` a JPEG of the intervals covering stored columns [x0, x1) and rows [y0, y1) with `margin`
// MCUs more on each side (within the image): 1 where libjpeg upsamples chroma (it reads a neighbouring
// sample), 0 for raw-data output, whose blocks depend on their own coefficients only. Returns false,
// writing nothing, when that would be every interval. The layout must be the walk of `data` and fit the
// grid (restart_damage() == nullptr).
bool splice_region(const std::uint8_t* data, const JpegLayout& layout, const RestartGrid& grid, int width, int height,
                   int x0, int x1, int y0, int y1, int margin, std::vector<std::uint8_t>& out, SpliceOrigin& origin);

}  // namespace fastimg::detail
