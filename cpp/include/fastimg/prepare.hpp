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

// The restart interval `prepare_jpeg` chooses for a scan of `mcus_per_row` MCUs a row coded in about
// `bytes_per_mcu` bytes each: the smallest divisor of the row whose intervals hold at least 128 bytes. Crops
// are cut at that granularity (one MCU, 16 px at 4:2:0, for camera-like files of ~4 bits/pixel; 4 MCUs at ~1
// bit/pixel); each interval costs its marker, a byte's padding and a DC restart (~3.5 bytes), so smaller
// intervals in sparser files would grow them by several percent. A row of a prime number of MCUs too sparse
// for one-MCU intervals gets one interval per row, which still lets crops skip the rows above.
int default_restart_interval(int mcus_per_row, double bytes_per_mcu);

// Rewrites the JPEG in data[0, size) losslessly: Huffman tables optimised for the file, progressive or
// arithmetic-coded files turned into one baseline scan, a restart marker every `interval` MCUs (0:
// default_restart_interval; other values are kept even when they do not split rows, which leaves the
// file decodable but not spliceable), every marker segment (EXIF, ICC, XMP, comments, JFIF, Adobe) copied
// as it was. Throws DecodeError naming the reason for a JPEG that cannot be read whole (truncated,
// corrupt, 12-bit or lossless, over limits.max_pixels or limits.max_scans), InvalidArgument for a
// negative interval. Needs no GIL.
PreparedJpeg prepare_jpeg(const std::uint8_t* data, std::size_t size, int interval, const DecodeLimits& limits = {});

}  // namespace fastimg
