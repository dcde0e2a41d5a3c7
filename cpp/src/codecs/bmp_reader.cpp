// BMP reader: Windows/OS-2 bitmaps as Jason Summers' BMP Suite describes them ("good" set plus the
// arbitrary-bitfield and alpha variants), with every read bounds-checked against the buffer.
//
// Pillow differences (see test_bmppnm.py): Pillow accepts only a fixed list of bitfield layouts; other
// contiguous masks are scaled here as round(v * 255 / (2^n - 1)), which is what BMP Suite's reference
// pictures use. Pillow fails with "not enough image data" when an RLE stream ends before the last
// pixel; here unwritten pixels are palette entry 0, as Pillow renders the gaps left by end-of-line and
// delta escapes.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {
namespace {

enum Compression : std::uint32_t {
  kRgb = 0,
  kRle8 = 1,
  kRle4 = 2,
  kBitfields = 3,
  kJpeg = 4,
  kPng = 5,
  kAlphaBitfields = 6,
  kCmyk = 11,
  kCmykRle4 = 13,
};

constexpr std::size_t kFileHeader = 14;
constexpr std::size_t kCoreHeader = 12;

[[noreturn]] void corrupt(const std::string& why) { throw DecodeError("corrupt BMP: " + why); }
[[noreturn]] void unsupported(const std::string& what) { throw DecodeError("unsupported BMP: " + what); }
[[noreturn]] void truncated(const std::string& what) { throw DecodeError("truncated BMP: " + what); }

// Little-endian reads that refuse to look past the end of the buffer.
struct Bytes {
  const std::uint8_t* data;
  std::size_t size;

  void need(std::size_t pos, std::size_t n, const char* what) const {
    if (pos > size || n > size - pos) truncated(what);
  }
  std::uint32_t u16(std::size_t pos) const {
    need(pos, 2, "header");
    return data[pos] | static_cast<std::uint32_t>(data[pos + 1]) << 8;
  }
  std::uint32_t u32(std::size_t pos) const {
    need(pos, 4, "header");
    return u16(pos) | u16(pos + 2) << 16;
  }
};

// One channel of a bitfield pixel (a mask settle_masks found contiguous). Channels up to 16 bits
// scale through a table so that wide images do not pay a division per sample.
struct Channel {
  std::uint32_t mask = 0;
  int shift = 0;
  int bits = 0;
  std::vector<std::uint8_t> table;

  static std::uint8_t rounded(std::uint64_t v, int n) {
    const std::uint64_t max = (std::uint64_t{1} << n) - 1;
    return static_cast<std::uint8_t>((v * 510 + max) / (2 * max));  // round(v * 255 / max)
  }

  std::uint8_t scale(std::uint32_t pixel) const {
    const std::uint32_t v = (pixel & mask) >> shift;
    if (!table.empty()) return table[v];
    return bits == 0 ? 0 : rounded(v, bits);
  }
};

Channel make_channel(std::uint32_t mask) {
  Channel c;
  c.mask = mask;
  if (mask == 0) return c;
  while (!((mask >> c.shift) & 1u)) ++c.shift;
  while (c.shift + c.bits < 32 && ((mask >> (c.shift + c.bits)) & 1u)) ++c.bits;
  if (c.bits <= 16) {
    c.table.resize(std::size_t{1} << c.bits);
    for (std::size_t v = 0; v < c.table.size(); ++v) c.table[v] = Channel::rounded(v, c.bits);
  }
  return c;
}

struct Header {
  std::int64_t width = 0;
  std::int64_t height = 0;
  bool top_down = false;
  int bpp = 0;
  std::uint32_t compression = kRgb;
  std::uint32_t colors = 0;              // palette entries stored (after defaulting)
  std::size_t palette_pos = 0;           // where the colour table starts
  std::size_t entry_size = 4;            // 3 for OS/2 1.x (RGBTRIPLE), 4 otherwise (RGBQUAD)
  std::size_t pixel_offset = 0;          // bfOffBits
  std::array<std::uint32_t, 4> masks{};  // R, G, B, A
  bool has_alpha = false;
};

void read_core_header(const Bytes& in, Header& h) {
  h.width = in.u16(18);
  h.height = in.u16(20);
  if (in.u16(22) != 1) corrupt("planes != 1");
  h.bpp = static_cast<int>(in.u16(24));
  h.entry_size = 3;
  h.palette_pos = kFileHeader + kCoreHeader;
  if (h.bpp <= 8) {
    // OS/2 1.x has no colour count: the gap before the pixels says how many entries are stored.
    h.colors = 1u << h.bpp;
    if (h.pixel_offset > h.palette_pos) {
      const std::size_t stored = (h.pixel_offset - h.palette_pos) / 3;
      if (stored > 0 && stored < h.colors) h.colors = static_cast<std::uint32_t>(stored);
    }
  }
}

void check_compression(std::uint32_t compression) {
  switch (compression) {
    case kRgb:
    case kRle8:
    case kRle4:
    case kBitfields:
    case kAlphaBitfields: return;
    case kJpeg:
    case kPng: unsupported("embedded JPEG/PNG");
    default:
      if (compression >= kCmyk && compression <= kCmykRle4) unsupported("CMYK");
      unsupported(concat("compression ", compression));
  }
}

void read_masks(const Bytes& in, std::uint32_t header_size, Header& h) {
  const bool bitfields = h.compression == kBitfields || h.compression == kAlphaBitfields;
  // A 40-byte header keeps its masks right after it; V2+ headers hold them inside.
  const std::size_t pos = kFileHeader + 40;
  std::size_t count = 0;
  if (header_size >= 52) {
    count = header_size >= 56 ? 4 : 3;
  } else if (bitfields) {
    count = h.compression == kAlphaBitfields ? 4 : 3;
    h.palette_pos += 4 * count;
  }
  if (!bitfields) return;  // masks stored in a V2+ header only count with BI_BITFIELDS
  for (std::size_t i = 0; i < count; ++i) h.masks[i] = in.u32(pos + 4 * i);
}

void read_info_header(const Bytes& in, std::uint32_t header_size, Header& h) {
  h.width = static_cast<std::int32_t>(in.u32(18));
  h.height = static_cast<std::int32_t>(in.u32(22));
  if (h.height < 0) {
    h.top_down = true;
    h.height = -h.height;
  }
  if (in.u16(26) != 1) corrupt("planes != 1");
  h.bpp = static_cast<int>(in.u16(28));
  h.compression = in.u32(30);
  check_compression(h.compression);
  h.palette_pos = kFileHeader + header_size;
  read_masks(in, header_size, h);
  if (h.bpp <= 8) {
    const std::uint32_t used = in.u32(46);
    h.colors = used != 0 ? used : 1u << h.bpp;
    if (h.colors > 65536) corrupt(concat("palette size ", h.colors));
  }
}

void check_depth(Header& h) {
  if (h.bpp == 2) unsupported("2-bit");
  if (h.bpp == 64) unsupported("64-bit");
  if (h.bpp != 1 && h.bpp != 4 && h.bpp != 8 && h.bpp != 16 && h.bpp != 24 && h.bpp != 32) {
    corrupt(concat("bit depth ", h.bpp));
  }
  const bool bitfields = h.compression == kBitfields || h.compression == kAlphaBitfields;
  if ((h.compression == kRle8 && h.bpp != 8) || (h.compression == kRle4 && h.bpp != 4)) {
    corrupt(concat("RLE with bit depth ", h.bpp));
  }
  if (bitfields && h.bpp < 16) corrupt(concat("bitfields with bit depth ", h.bpp));
  if ((h.compression == kRle8 || h.compression == kRle4) && h.top_down) corrupt("top-down RLE");
}

// Defaults and validation: masks within the pixel, contiguous, not overlapping.
void settle_masks(Header& h) {
  if (h.bpp < 16) return;
  auto& m = h.masks;
  if (m[0] == 0 && m[1] == 0 && m[2] == 0) {
    if (h.bpp == 16) {
      m = {0x7C00, 0x03E0, 0x001F, 0};
    } else {
      m = {0xFF0000, 0x00FF00, 0x0000FF, 0};
    }
  }
  const std::uint64_t limit = (std::uint64_t{1} << h.bpp) - 1;
  std::uint32_t seen = 0;
  for (const std::uint32_t mask : m) {
    if (mask > limit) corrupt("bitfield mask wider than the pixel");
    if (seen & mask) corrupt("bitfield masks overlap");
    seen |= mask;
    const std::uint64_t run = mask ? mask / (mask & (~mask + 1)) : 0;  // mask shifted down to bit 0
    if (run & (run + 1)) corrupt("bitfield mask is not contiguous");
  }
  h.has_alpha = m[3] != 0;
}

Header read_header(const Bytes& in, const DecodeLimits& limits) {
  in.need(0, kFileHeader + 4, "header");
  if (in.data[0] != 'B' || in.data[1] != 'M') corrupt("not a BMP file");
  Header h;
  h.pixel_offset = in.u32(10);
  const std::uint32_t header_size = in.u32(14);
  in.need(kFileHeader, header_size, "header");
  if (header_size == kCoreHeader) {
    read_core_header(in, h);
  } else if (header_size == 40 || header_size == 52 || header_size == 56 || header_size == 108 || header_size == 124) {
    read_info_header(in, header_size, h);
  } else if (header_size >= 16 && header_size <= 64) {
    unsupported("OS/2 2.x header");
  } else {
    corrupt(concat("header size ", header_size));
  }
  check_depth(h);
  settle_masks(h);
  check_dimensions(h.width, h.height, limits, "BMP");
  // Pillow's rule for a pixel offset that leaves no room for the colour table: skip the table.
  if (h.bpp <= 8 && h.pixel_offset == h.palette_pos) h.pixel_offset += h.entry_size * h.colors;
  if (h.pixel_offset == 0) h.pixel_offset = h.palette_pos + (h.bpp <= 8 ? h.entry_size * h.colors : 0);
  if (h.pixel_offset >= in.size) truncated("no pixel data");
  return h;
}

// Missing entries (indices past the stored table) are black, as in Pillow.
using Palette = std::array<std::array<std::uint8_t, 3>, 256>;

Palette read_palette(const Bytes& in, const Header& h) {
  Palette pal{};
  const std::size_t n = std::min<std::size_t>(h.colors, std::size_t{1} << h.bpp);
  in.need(h.palette_pos, n * h.entry_size, "colour table");
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* e = in.data + h.palette_pos + i * h.entry_size;
    pal[i] = {e[2], e[1], e[0]};
  }
  return pal;
}

std::uint8_t* dest_row(NativeImage& out, const Header& h, std::int64_t stored_row) {
  const std::int64_t y = h.top_down ? stored_row : h.height - 1 - stored_row;
  return out.pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(out.width) * out.channels;
}

void put_indexed_row(const std::uint8_t* src, int bpp, const Palette& pal, std::uint8_t* dst, int width) {
  const int per_byte = 8 / bpp;
  const unsigned mask = (1u << bpp) - 1;
  for (int x = 0; x < width; ++x) {
    const int shift = 8 - bpp * (x % per_byte + 1);
    const auto& c = pal[(src[x / per_byte] >> shift) & mask];
    std::memcpy(dst + 3 * x, c.data(), 3);
  }
}

void put_masked_row(const std::uint8_t* src, const Header& h, const std::array<Channel, 4>& ch, std::uint8_t* dst,
                    int width, int channels) {
  const int bytes = h.bpp / 8;
  for (int x = 0; x < width; ++x, src += bytes, dst += channels) {
    std::uint32_t v = 0;
    for (int b = bytes - 1; b >= 0; --b) v = v << 8 | src[b];
    for (int c = 0; c < channels; ++c) dst[c] = ch[c].scale(v);
  }
}

void put_bgr_row(const std::uint8_t* src, int step, std::uint8_t* dst, int width) {
  for (int x = 0; x < width; ++x, src += step, dst += 3) {
    dst[0] = src[2];
    dst[1] = src[1];
    dst[2] = src[0];
  }
}

NativeImage decode_raw(const Bytes& in, const Header& h) {
  const std::uint64_t row_bytes = (static_cast<std::uint64_t>(h.width) * h.bpp + 7) / 8;
  const std::uint64_t stride = (row_bytes + 3) & ~std::uint64_t{3};
  // The last row's padding is often left out; everything else must be there before we allocate.
  const std::uint64_t needed = stride * static_cast<std::uint64_t>(h.height - 1) + row_bytes;
  if (needed > in.size - h.pixel_offset) truncated("pixel data");
  const int channels = h.has_alpha ? 4 : 3;
  NativeImage out = make_native(static_cast<int>(h.width), static_cast<int>(h.height), channels);
  const Palette pal = h.bpp <= 8 ? read_palette(in, h) : Palette{};
  const bool direct = h.compression == kRgb && h.bpp >= 24;
  std::array<Channel, 4> ch{};
  if (h.bpp > 8 && !direct) {
    for (int c = 0; c < 4; ++c) ch[c] = make_channel(h.masks[c]);
  }
  for (std::int64_t r = 0; r < h.height; ++r) {
    const std::uint8_t* src = in.data + h.pixel_offset + static_cast<std::size_t>(stride) * r;
    std::uint8_t* dst = dest_row(out, h, r);
    if (h.bpp <= 8) {
      put_indexed_row(src, h.bpp, pal, dst, out.width);
    } else if (direct) {
      put_bgr_row(src, h.bpp / 8, dst, out.width);
    } else {
      put_masked_row(src, h, ch, dst, out.width, channels);
    }
  }
  return out;
}

// RLE8/RLE4 into a bottom-up index plane. Runs that would leave their row or the image are corrupt
// (encoded runs are clipped at the row end instead, as Pillow and Windows do).
class RleDecoder {
 public:
  RleDecoder(const Bytes& in, const Header& h)
      : in_(in),
        pos_(h.pixel_offset),
        w_(h.width),
        h_(h.height),
        rle4_(h.compression == kRle4),
        plane_(static_cast<std::size_t>(w_ * h_), 0) {}

  std::vector<std::uint8_t> run() {
    while (true) {
      if (in_.size - pos_ < 2) {
        if (y_ >= h_) break;  // every row ended: a missing end-of-bitmap marker is harmless
        truncated("RLE data ends before the end-of-bitmap marker");
      }
      const std::uint8_t count = in_.data[pos_], value = in_.data[pos_ + 1];
      pos_ += 2;
      if (count > 0) {
        encoded(count, value);
      } else if (value == 0) {
        x_ = 0;
        ++y_;
      } else if (value == 1) {
        break;
      } else if (value == 2) {
        delta();
      } else {
        absolute(value);
      }
    }
    return std::move(plane_);
  }

 private:
  static std::uint8_t nibble(std::uint8_t byte, std::int64_t i) {
    return static_cast<std::uint8_t>((i & 1) ? byte & 0x0F : byte >> 4);
  }

  std::uint8_t* at() { return plane_.data() + static_cast<std::size_t>(y_ * w_ + x_); }

  void encoded(int count, std::uint8_t value) {
    if (y_ >= h_) corrupt("RLE data past the end of the image");
    const std::int64_t n = std::min<std::int64_t>(count, w_ - x_);
    std::uint8_t* p = at();
    for (std::int64_t i = 0; i < n; ++i) p[i] = rle4_ ? nibble(value, i) : value;
    x_ += n;
  }

  void delta() {
    in_.need(pos_, 2, "RLE delta");
    x_ += in_.data[pos_];
    y_ += in_.data[pos_ + 1];
    pos_ += 2;
    if (x_ > w_ || y_ > h_ || (y_ == h_ && x_ > 0)) corrupt("RLE delta past the end of the image");
  }

  void absolute(int count) {
    if (y_ >= h_ || x_ + count > w_) corrupt("RLE run past the end of a row");
    const std::size_t bytes = rle4_ ? (static_cast<std::size_t>(count) + 1) / 2 : static_cast<std::size_t>(count);
    in_.need(pos_, bytes, "RLE run");
    const std::uint8_t* src = in_.data + pos_;
    std::uint8_t* p = at();
    for (int i = 0; i < count; ++i) p[i] = rle4_ ? nibble(src[i / 2], i) : src[i];
    x_ += count;
    pos_ += std::min(in_.size - pos_, (bytes + 1) & ~std::size_t{1});  // runs are padded to 16 bits
  }

  const Bytes& in_;
  std::size_t pos_;
  std::int64_t w_, h_, x_ = 0, y_ = 0;
  bool rle4_;
  std::vector<std::uint8_t> plane_;
};

NativeImage decode_rle(const Bytes& in, const Header& h) {
  const Palette pal = read_palette(in, h);
  const std::vector<std::uint8_t> plane = RleDecoder(in, h).run();
  NativeImage out = make_native(static_cast<int>(h.width), static_cast<int>(h.height), 3);
  for (std::int64_t r = 0; r < h.height; ++r) {
    const std::uint8_t* src = plane.data() + static_cast<std::size_t>(r * h.width);
    std::uint8_t* dst = dest_row(out, h, r);
    for (int x = 0; x < out.width; ++x) std::memcpy(dst + 3 * x, pal[src[x]].data(), 3);
  }
  return out;
}

}  // namespace

NativeImage decode_bmp(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation) {
  orientation = 0;
  const Bytes in{data, size};
  const Header h = read_header(in, limits);
  if (h.compression == kRle8 || h.compression == kRle4) return decode_rle(in, h);
  return decode_raw(in, h);
}

}  // namespace fastimg::detail
