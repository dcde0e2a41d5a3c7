#include "jpeg_markers.hpp"

#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fastimg::detail {

namespace {

constexpr std::uint8_t kSos = 0xDA, kEoi = 0xD9, kTem = 0x01, kRst0 = 0xD0, kRst7 = 0xD7;

bool standalone(std::uint8_t marker) { return marker == kTem || (marker >= kRst0 && marker <= kRst7); }

// Start-of-frame markers: C0..CF less DHT (C4), JPG (C8) and DAC (CC).
bool frame_header(std::uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// What follows a 0xFF at `p` inside entropy-coded data: the position of the marker's 0xFF (fill bytes
// skipped) and whether it belongs to the data (stuffed 0xFF00 or RSTn, recorded in `restarts`).
struct FFByte {
  std::size_t at;  // the last 0xFF before the code byte; size when the data ends first
  bool in_data;
};

FFByte classify(const std::uint8_t* data, std::size_t size, std::size_t p, JpegLayout* restarts) {
  while (p + 1 < size && data[p + 1] == 0xFF) ++p;  // fill bytes before a marker
  if (p + 1 >= size) return {size, false};
  const std::uint8_t next = data[p + 1];
  if (next == 0x00) return {p, true};
  if (next >= kRst0 && next <= kRst7) {
    if (restarts != nullptr) {
      if (next - kRst0 != static_cast<int>(restarts->restarts.size() % 8)) restarts->restarts_in_order = false;
      restarts->restarts.push_back(p);
    }
    return {p, true};
  }
  return {p, false};
}

// The position of the first marker after the entropy-coded data starting at `pos` (stuffed 0xFF00 bytes,
// restart markers and fill bytes belong to the data), or `size` when the data runs to the end. Restart
// markers go to `restarts` when given. Every file is walked once per decode; files with restart markers
// every MCU have a 0xFF every hundred bytes or so, where a memchr per byte found cost ~25 us per
// ImageNet-sized file: 16 bytes are compared at a time and every 0xFF among them handled from the mask.
std::size_t end_of_scan(const std::uint8_t* data, std::size_t size, std::size_t pos, JpegLayout* restarts) {
#if defined(__SSE2__)
  const __m128i ff = _mm_set1_epi8(static_cast<char>(0xFF));
  while (pos + 16 <= size) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, ff)));
    std::size_t next = pos + 16;
    while (mask != 0) {
      const FFByte b = classify(data, size, pos + static_cast<std::size_t>(__builtin_ctz(mask)), restarts);
      if (!b.in_data) return b.at;
      const std::size_t resume = b.at + 2;
      if (resume >= pos + 16) {
        next = resume;
        break;
      }
      mask &= ~((1u << (resume - pos)) - 1u);
    }
    pos = next;
  }
#endif
  while (pos < size) {
    const void* hit = std::memchr(data + pos, 0xFF, size - pos);
    if (hit == nullptr) return size;
    const FFByte b =
        classify(data, size, static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - data), restarts);
    if (!b.in_data) return b.at;
    pos = b.at + 2;
  }
  return size;
}

// The table slots a DQT (0xDB) or DHT (0xC4) segment's payload [p, end) defines.
void note_tables(std::uint8_t marker, const std::uint8_t* p, const std::uint8_t* end, JpegLayout& layout) {
  while (p < end) {
    const int id = *p & 0x0F, kind = *p >> 4;
    if (marker == 0xDB) {
      if (id < 4) layout.quant_tables |= 1u << id;
      p += 1 + (kind != 0 ? 128 : 64);
      continue;
    }
    if (end - p < 17) return;
    std::size_t values = 0;
    for (int i = 1; i <= 16; ++i) values += p[i];
    if (id < 4) (kind == 0 ? layout.dc_tables : layout.ac_tables) |= 1u << id;
    p += 17 + values;
  }
}

}  // namespace

bool jpeg_reaches_eoi(const std::uint8_t* data, std::size_t size, JpegLayout* layout) {
  if (layout != nullptr) {  // reset, keeping the restart list's memory: the reader walks every file it opens
    std::vector<std::size_t> restarts = std::move(layout->restarts);
    restarts.clear();
    *layout = JpegLayout{};
    layout->restarts = std::move(restarts);
  }
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return false;
  std::size_t pos = 2;
  while (pos < size) {
    if (data[pos] != 0xFF) {  // stray bytes between segments: libjpeg skips them with a warning
      const void* hit = std::memchr(data + pos, 0xFF, size - pos);
      if (hit == nullptr) return false;
      pos = static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - data);
    }
    while (pos + 1 < size && data[pos + 1] == 0xFF) ++pos;  // fill bytes
    if (pos + 1 >= size) return false;
    const std::size_t at = pos;
    const std::uint8_t marker = data[pos + 1];
    pos += 2;
    if (marker == kEoi) return true;
    if (standalone(marker) || marker == 0x00) continue;
    if (pos + 2 > size) return false;
    const std::size_t length = (static_cast<std::size_t>(data[pos]) << 8) | data[pos + 1];
    if (length < 2 || pos + length > size) return false;
    if (layout != nullptr && (marker == 0xDB || marker == 0xC4))
      note_tables(marker, data + pos + 2, data + pos + length, *layout);
    pos += length;
    if (layout != nullptr && frame_header(marker) && layout->frame == 0) layout->frame = at;
    if (marker == kSos) {
      const bool first = layout != nullptr && layout->scans++ == 0;
      const std::size_t data_start = pos;
      pos = end_of_scan(data, size, pos, first ? layout : nullptr);
      if (first) {
        layout->scan = at;
        layout->scan_data = data_start;
        layout->scan_end = pos;
      }
    }
  }
  return false;
}

}  // namespace fastimg::detail
