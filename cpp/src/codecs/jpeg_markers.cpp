#include "jpeg_markers.hpp"

#include <cstring>

namespace fastimg::detail {

namespace {

constexpr std::uint8_t kSos = 0xDA, kEoi = 0xD9, kTem = 0x01, kRst0 = 0xD0, kRst7 = 0xD7;

bool standalone(std::uint8_t marker) { return marker == kTem || (marker >= kRst0 && marker <= kRst7); }

// Start-of-frame markers: C0..CF less DHT (C4), JPG (C8) and DAC (CC).
bool frame_header(std::uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// The position of the first marker after the entropy-coded data starting at `pos` (stuffed 0xFF00 bytes,
// restart markers and fill bytes belong to the data), or `size` when the data runs to the end. Restart
// markers go to `restarts` when given.
std::size_t end_of_scan(const std::uint8_t* data, std::size_t size, std::size_t pos, JpegLayout* restarts) {
  while (pos < size) {
    const void* hit = std::memchr(data + pos, 0xFF, size - pos);
    if (hit == nullptr) return size;
    std::size_t p = static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - data);
    while (p + 1 < size && data[p + 1] == 0xFF) ++p;  // fill bytes before a marker
    if (p + 1 >= size) return size;
    const std::uint8_t next = data[p + 1];
    if (next == 0x00 || (next >= kRst0 && next <= kRst7)) {
      if (next != 0x00 && restarts != nullptr) {
        if (next - kRst0 != static_cast<int>(restarts->restarts.size() % 8)) restarts->restarts_in_order = false;
        restarts->restarts.push_back(p);
      }
      pos = p + 2;
      continue;
    }
    return p;
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
  if (layout != nullptr) *layout = JpegLayout{};
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
