// Netpbm reader: P1-P6 (PBM/PGM/PPM, plain and raw) and P7 (PAM).
//
// Samples become 8 bits as round(v * 255 / maxval), or v >> 8 when maxval is 65535 (the high byte, as
// the other decoders keep it). Pillow differences (see test_bmppnm.py): Pillow loads 16-bit gray
// (P2/P5 with maxval > 255) as mode I and clips it to 255 on convert("RGB"); Pillow clips raw samples
// above maxval where this reader refuses them; Pillow does not read P7.
#include <cstring>
#include <string>
#include <vector>

#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {
namespace {

[[noreturn]] void corrupt(const std::string& why) { throw DecodeError("corrupt PNM: " + why); }
[[noreturn]] void unsupported(const std::string& what) { throw DecodeError("unsupported PNM: " + what); }
[[noreturn]] void truncated(const std::string& what) { throw DecodeError("truncated PNM: " + what); }

bool is_space(std::uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_digit(std::uint8_t c) { return c >= '0' && c <= '9'; }

// File bytes quoted in a message: short and printable ASCII only.
std::string quoted(const std::string& text) {
  std::string out = text.substr(0, 32);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7E) c = '?';
  }
  return out;
}

enum class Encoding { Plain, Raw, RawBits };

struct Layout {
  std::int64_t width = 0;
  std::int64_t height = 0;
  int channels = 1;
  std::uint32_t maxval = 1;
  Encoding encoding = Encoding::Raw;
  bool bitmap = false;  // PBM: 1 is black
};

// A read position over the file with netpbm's token rules.
struct Cursor {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;

  bool done() const { return pos >= size; }
  std::size_t left() const { return size - pos; }

  // Whitespace and '#' comments (to the end of the line) may sit between any two tokens.
  void skip_blanks() {
    while (pos < size) {
      if (is_space(data[pos])) {
        ++pos;
      } else if (data[pos] == '#') {
        while (pos < size && data[pos] != '\n' && data[pos] != '\r') ++pos;
      } else {
        return;
      }
    }
  }

  std::uint32_t number(const char* what, std::uint32_t max) {
    skip_blanks();
    if (done()) truncated(concat("header ends before the ", what));
    if (!is_digit(data[pos])) corrupt(concat("bad ", what));
    std::uint64_t v = 0;
    while (pos < size && is_digit(data[pos])) {
      v = v * 10 + (data[pos++] - '0');
      if (v > max) corrupt(concat(what, " out of range"));
    }
    return static_cast<std::uint32_t>(v);
  }

  // Raw rasters start after exactly one whitespace byte.
  void end_of_header() {
    if (done()) truncated("no pixel data");
    if (!is_space(data[pos])) corrupt("no whitespace after the header");
    ++pos;
  }
};

constexpr std::uint32_t kMaxSide = 1u << 30;

// Lookup from a sample value to 8 bits, with the 16-bit case keeping the high byte.
std::vector<std::uint8_t> sample_table(std::uint32_t maxval) {
  std::vector<std::uint8_t> lut(std::size_t{maxval} + 1);
  for (std::uint64_t v = 0; v <= maxval; ++v) {
    lut[v] = static_cast<std::uint8_t>(maxval == 65535 ? v >> 8 : (v * 510 + maxval) / (2 * std::uint64_t{maxval}));
  }
  return lut;
}

void read_size(Cursor& in, Layout& l, const DecodeLimits& limits) {
  l.width = in.number("width", kMaxSide);
  l.height = in.number("height", kMaxSide);
  check_dimensions(l.width, l.height, limits, "PNM");
}

void read_maxval(Cursor& in, Layout& l) {
  l.maxval = in.number("maxval", 65535);
  if (l.maxval == 0) corrupt("maxval 0");
}

// ---- PAM (P7): "KEY value" lines up to ENDHDR.

std::string next_line(Cursor& in) {
  const std::uint8_t* start = in.data + in.pos;
  const void* nl = std::memchr(start, '\n', in.left());
  if (!nl) truncated("PAM header");
  const std::size_t len = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nl) - start);
  in.pos += len + 1;
  std::size_t b = 0, e = len;
  while (b < e && is_space(start[b])) ++b;
  while (e > b && is_space(start[e - 1])) --e;
  return std::string(reinterpret_cast<const char*>(start) + b, e - b);
}

std::uint32_t pam_number(const std::string& value, const char* key, std::uint32_t max) {
  Cursor c{reinterpret_cast<const std::uint8_t*>(value.data()), value.size()};
  const std::uint32_t v = c.number(key, max);
  if (!c.done()) corrupt(concat("bad ", key));
  return v;
}

int tuple_channels(const std::string& type, std::uint32_t depth) {
  if (type.empty()) return static_cast<int>(depth);  // netpbm allows it: the depth says it all
  if (type == "BLACKANDWHITE" || type == "GRAYSCALE") return 1;
  if (type == "BLACKANDWHITE_ALPHA" || type == "GRAYSCALE_ALPHA") return 2;
  if (type == "RGB") return 3;
  if (type == "RGB_ALPHA") return 4;
  unsupported("PAM tuple type " + quoted(type));
}

Layout read_pam_header(Cursor& in, const DecodeLimits& limits) {
  std::uint32_t w = 0, h = 0, depth = 0, maxval = 0;
  std::string type;
  while (true) {
    const std::string line = next_line(in);
    if (line.empty() || line[0] == '#') continue;
    if (line == "ENDHDR") break;
    const std::size_t split = line.find_first_of(" \t");
    const std::string key = line.substr(0, split);
    std::string value = split == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", split));
    if (key == "WIDTH")
      w = pam_number(value, "width", kMaxSide);
    else if (key == "HEIGHT")
      h = pam_number(value, "height", kMaxSide);
    else if (key == "DEPTH")
      depth = pam_number(value, "depth", 65535);
    else if (key == "MAXVAL")
      maxval = pam_number(value, "maxval", 65535);
    else if (key == "TUPLTYPE")
      type = value;
    else
      corrupt("unknown PAM header line");
  }
  if (w == 0 || h == 0 || depth == 0 || maxval == 0) corrupt("PAM header misses WIDTH, HEIGHT, DEPTH or MAXVAL");
  check_dimensions(w, h, limits, "PNM");
  if (depth > 4) unsupported(concat("PAM depth ", depth));
  const int channels = tuple_channels(type, depth);
  if (static_cast<std::uint32_t>(channels) != depth) corrupt("PAM depth does not match TUPLTYPE");
  Layout l;
  l.width = w;
  l.height = h;
  l.channels = channels;
  l.maxval = maxval;
  return l;
}

// ---- headers of P1-P6.

Layout read_header(Cursor& in, const DecodeLimits& limits) {
  if (in.size < 3) truncated("header");
  if (in.data[0] != 'P') corrupt("not a PNM file");
  const std::uint8_t kind = in.data[1];
  if (kind < '1' || kind > '7') unsupported("format P" + quoted(std::string(1, static_cast<char>(kind))));
  if (!is_space(in.data[2])) corrupt("not a PNM file");
  in.pos = kind == '7' ? 2 : 3;
  if (kind == '7') {
    next_line(in);  // the rest of the magic line
    return read_pam_header(in, limits);
  }
  Layout l;
  read_size(in, l, limits);
  const int type = (kind - '1') % 3;  // 0 bitmap, 1 gray, 2 RGB
  l.bitmap = type == 0;
  l.channels = type == 2 ? 3 : 1;
  l.encoding = kind <= '3' ? Encoding::Plain : type == 0 ? Encoding::RawBits : Encoding::Raw;
  if (!l.bitmap) read_maxval(in, l);
  if (l.encoding == Encoding::Plain) {
    if (!in.done() && !is_space(in.data[in.pos]) && in.data[in.pos] != '#') corrupt("no whitespace after the header");
  } else {
    in.end_of_header();
  }
  return l;
}

// ---- rasters.

std::uint64_t sample_count(const Layout& l) {
  return static_cast<std::uint64_t>(l.width) * static_cast<std::uint64_t>(l.height) *
         static_cast<std::uint64_t>(l.channels);
}

NativeImage allocate(const Layout& l) {
  return make_native(static_cast<int>(l.width), static_cast<int>(l.height), l.channels);
}

NativeImage read_raw(Cursor& in, const Layout& l) {
  const std::uint64_t n = sample_count(l);
  const bool wide = l.maxval > 255;
  if (in.left() / (wide ? 2 : 1) < n) truncated("pixel data");
  NativeImage out = allocate(l);
  const std::vector<std::uint8_t> lut = sample_table(l.maxval);
  const std::uint8_t* src = in.data + in.pos;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint32_t v = wide ? (src[2 * i] << 8 | src[2 * i + 1]) : src[i];
    if (v > l.maxval) corrupt("sample exceeds maxval");
    out.pixels[i] = lut[v];
  }
  return out;
}

NativeImage read_raw_bits(Cursor& in, const Layout& l) {
  const std::uint64_t row_bytes = (static_cast<std::uint64_t>(l.width) + 7) / 8;
  if (in.left() / row_bytes < static_cast<std::uint64_t>(l.height)) truncated("pixel data");
  NativeImage out = allocate(l);
  std::uint8_t* dst = out.pixels.data();
  for (std::int64_t y = 0; y < l.height; ++y) {
    const std::uint8_t* row = in.data + in.pos + static_cast<std::size_t>(row_bytes) * y;
    for (std::int64_t x = 0; x < l.width; ++x) *dst++ = (row[x / 8] >> (7 - x % 8)) & 1 ? 0 : 255;
  }
  return out;
}

// Plain PBM digits need no whitespace between them; plain PGM/PPM samples are decimal tokens.
NativeImage read_plain(Cursor& in, const Layout& l) {
  const std::uint64_t n = sample_count(l);
  const std::uint64_t min_bytes = l.bitmap ? n : 2 * n - 1;
  if (in.left() < min_bytes) truncated("pixel data");
  NativeImage out = allocate(l);
  const std::vector<std::uint8_t> lut = l.bitmap ? std::vector<std::uint8_t>{} : sample_table(l.maxval);
  for (std::uint64_t i = 0; i < n; ++i) {
    in.skip_blanks();
    if (in.done()) truncated("pixel data");
    if (l.bitmap) {
      const std::uint8_t c = in.data[in.pos++];
      if (c != '0' && c != '1') corrupt("bad PBM digit");
      out.pixels[i] = c == '1' ? 0 : 255;
    } else {
      const std::uint32_t v = in.number("sample", l.maxval);
      if (!in.done() && !is_space(in.data[in.pos]) && in.data[in.pos] != '#') corrupt("bad sample");
      out.pixels[i] = lut[v];
    }
  }
  return out;
}

}  // namespace

NativeImage decode_pnm(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation) {
  orientation = 0;
  Cursor in{data, size};
  const Layout l = read_header(in, limits);
  switch (l.encoding) {
    case Encoding::Plain: return read_plain(in, l);
    case Encoding::RawBits: return read_raw_bits(in, l);
    case Encoding::Raw: break;
  }
  return read_raw(in, l);
}

}  // namespace fastimg::detail
