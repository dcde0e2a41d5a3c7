// Internal: a walk over a JPEG's marker structure, independent of libjpeg.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fastimg::detail {

// What the walk saw of the file's structure. Offsets are of a marker's 0xFF byte.
struct JpegLayout {
  std::size_t frame = 0;      // the frame header (SOFn); 0 when none was seen
  std::size_t scan = 0;       // the first scan header (SOS)
  std::size_t scan_data = 0;  // the first byte of the first scan's entropy-coded data
  std::size_t scan_end = 0;   // the marker that ends the first scan
  int scans = 0;
  std::vector<std::size_t> restarts;  // the first scan's RSTn markers, in file order
  bool restarts_in_order = true;      // they are numbered 0, 1, ..., 7, 0, ... as the standard requires
  // Table slots (bit i: slot i) the file's DQT and DHT segments define, anywhere in the file.
  unsigned quant_tables = 0, dc_tables = 0, ac_tables = 0;
};

// True when `data` (starting at SOI) holds a complete marker structure: every segment whole, and the
// entropy-coded data of the last scan closed by an EOI marker. Bytes after that EOI are ignored (files
// with trailing data are common and decode everywhere). Region decoding stops reading at the last row
// it needs, so without this walk a file truncated below the crop would decode in one epoch and fail in
// the next. Cost: one memchr-driven pass over the bytes. Thread-safe (pure). `layout`, when given, receives
// the positions the restart-interval splicer needs (jpeg_splice.hpp), found in the same pass.
bool jpeg_reaches_eoi(const std::uint8_t* data, std::size_t size, JpegLayout* layout = nullptr);

}  // namespace fastimg::detail
