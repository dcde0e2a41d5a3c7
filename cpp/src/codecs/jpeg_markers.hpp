// Internal: a walk over a JPEG's marker structure, independent of libjpeg.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastimg::detail {

// True when `data` (starting at SOI) holds a complete marker structure: every segment whole, and the
// entropy-coded data of the last scan closed by an EOI marker. Bytes after that EOI are ignored (files
// with trailing data are common and decode everywhere). Region decoding stops reading at the last row
// it needs, so without this walk a file truncated below the crop would decode in one epoch and fail in
// the next. Cost: one memchr-driven pass over the bytes. Thread-safe (pure).
bool jpeg_reaches_eoi(const std::uint8_t* data, std::size_t size);

}  // namespace fastimg::detail
