// Internal: the rules every libjpeg user here (the reader, the preparer) applies to libjpeg's messages and
// progress, written once.
#pragma once

// clang-format off
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <cstddef>

namespace fastimg::detail {

// What a libjpeg warning means for the pixels: Truncated (the data ended: libjpeg fills the rest with
// grey), Corrupt (damage inside a scan that libjpeg resynchronises after), or Benign (extra bytes between
// markers, an unknown JFIF revision: every mainstream decoder ignores them).
enum class JpegWarning { Benign, Truncated, Corrupt };

inline JpegWarning classify_warning(int code) {
  switch (code) {
    case JWRN_JPEG_EOF: return JpegWarning::Truncated;
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION: return JpegWarning::Corrupt;
    default: return JpegWarning::Benign;
  }
}

// For a progress monitor: whether a progressive decompression has gone past `max_scans` (the
// TJFLAG_LIMITSCANS guard against scan bombs), with the reason written to `message`.
inline bool too_many_scans(j_common_ptr c, int max_scans, char* message, std::size_t size) {
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (!c->is_decompressor || !d->progressive_mode || d->input_scan_number <= max_scans) return false;
  std::snprintf(message, size, "progressive JPEG has more than %d scans (limit)", max_scans);
  return true;
}

}  // namespace fastimg::detail
