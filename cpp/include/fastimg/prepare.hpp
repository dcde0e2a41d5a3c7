// Lossless preparation of JPEG files for region decoding: the same DCT coefficients rewritten as one
// baseline scan with restart markers, so that a crop decodes only the intervals covering it (decoding a
// prepared file gives exactly the original's pixels, at every scale). What `jpegtran -copy all -optimize
// -restart N` does, with N chosen for splicing and the colour-space markers kept as they were.
// Thread-safe: every call owns its codec state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fastimg/decode.hpp"

namespace fastimg {

struct PreparedJpeg {
  enum class Outcome {
    Prepared,         // `bytes` holds the rewritten file
    AlreadyPrepared,  // a single baseline scan whose restart intervals already split its rows: keep it
    NotJpeg,          // not a JPEG (no SOI marker): keep it
  };
  Outcome outcome = Outcome::NotJpeg;
  std::vector<std::uint8_t> bytes;  // empty unless Prepared
  int interval = 0;                 // MCUs per restart interval of the file to keep (0 for NotJpeg)
};

// The restart interval `prepare_jpeg` chooses for a scan of `mcus_per_row` MCUs a row: the first of 4, 3,
// 2, then 5, 6, 7, 8 that divides the row (crops are cut at that granularity: 32-128 pixels for 4:2:0
// files; each interval costs its marker, a byte's padding and a DC restart, ~1 % at 4 MCUs), else (a row
// of a prime number of MCUs over 8) one interval per row, which still lets crops skip the rows above.
int default_restart_interval(int mcus_per_row);

// Rewrites the JPEG in data[0, size) losslessly: Huffman tables optimised for the file, progressive or
// arithmetic-coded files turned into one baseline scan, a restart marker every `interval` MCUs (0:
// default_restart_interval; other values are kept even when they do not split rows, which leaves the
// file decodable but not spliceable), every marker segment (EXIF, ICC, XMP, comments, JFIF, Adobe) copied
// as it was. Throws DecodeError naming the reason for a JPEG that cannot be read whole (truncated,
// corrupt, 12-bit or lossless, over limits.max_pixels or limits.max_scans), InvalidArgument for a
// negative interval. Needs no GIL.
PreparedJpeg prepare_jpeg(const std::uint8_t* data, std::size_t size, int interval, const DecodeLimits& limits = {});

}  // namespace fastimg
