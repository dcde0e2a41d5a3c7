// PNG through libpng: palette, gray, tRNS and low bit depths expanded to 8-bit samples, 16-bit reduced to
// the high byte, Adam7 deinterlaced; no gamma or colour-profile handling (Pillow applies none either).
//
// Damage is judged as Pillow judges it. Faults libpng calls benign -- in ancillary chunks (a duplicate
// sBIT, an sRGB after PLTE or beside an iCCP, an odd iCCP profile) or extra data after the last row --
// change no pixel we deliver: the image decodes, and under strict = false the first one is reported
// through record_decode_warning. A bad CRC is corrupted bytes rather than a quirk: in a critical chunk
// always an error, in an ancillary one before the image data an error in strict mode (Pillow refuses
// it) and a warning otherwise (libpng drops the chunk; Pillow with LOAD_TRUNCATED_IMAGES skips the check).
#include <png.h>

#include <csetjmp>
#include <cstring>
#include <string>

#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {
namespace {

struct PngSource {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  bool truncated = false;
  bool strict = true;
  char message[200] = {};
  char warning[200] = {};  // the first fault libpng worked around
  int orientation = 0;
  std::uint32_t width = 0, height = 0;
  int channels = 0;
};

PngSource& source_of(png_structp png) { return *static_cast<PngSource*>(png_get_io_ptr(png)); }

void read_bytes(png_structp png, png_bytep out, png_size_t n) {
  PngSource& s = source_of(png);
  if (n > s.size - s.pos) {
    s.truncated = true;
    png_error(png, "the data ends early");
  }
  std::memcpy(out, s.data + s.pos, n);
  s.pos += n;
}

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* s = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof(s->message), "%s", message);
  png_longjmp(png, 1);
}

// With benign errors allowed (read_header), libpng reports here the faults it works around by dropping
// an ancillary chunk or ignoring surplus data; errors in pixel data still go to on_error. tRNS is the
// exception: it sets alpha, and libpng drops a misplaced or duplicate one where Pillow applies it, so
// the RGBA pixels would differ -- an error, as before.
void on_warning(png_structp png, png_const_charp message) {
  if (std::strncmp(message, "tRNS", 4) == 0) on_error(png, message);
  auto* s = static_cast<PngSource*>(png_get_error_ptr(png));
  if (s->warning[0] == '\0') std::snprintf(s->warning, sizeof(s->warning), "%s", message);
}

// Orientation from the chunks read so far: eXIf, then ImageMagick's hex "Raw profile type exif" text,
// then XMP's tiff:Orientation -- the order in which Pillow's getexif looks.
void find_orientation(png_structp png, png_infop info, PngSource& s) {
  if (s.orientation != 0) return;
#ifdef PNG_eXIf_SUPPORTED
  png_uint_32 exif_size = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(png, info, &exif_size, &exif) != 0 && exif != nullptr) {
    s.orientation = exif_block_orientation(exif, exif_size);
    if (s.orientation != 0) return;
  }
#endif
  png_textp texts = nullptr;
  const int count = png_get_text(png, info, &texts, nullptr);
  for (int i = 0; i < count && s.orientation == 0; ++i) {
    const std::string key = texts[i].key;
    const std::size_t length = texts[i].compression > 0 ? texts[i].itxt_length : texts[i].text_length;
    if (key == "Raw profile type exif") {
      // "\nexif\n   <size>\n<hex lines>": the hex starts on the fourth line.
      const std::string text(texts[i].text, length);
      std::size_t at = 0;
      for (int line = 0; line < 3 && at != std::string::npos; ++line) at = text.find('\n', at + (line ? 1 : 0));
      if (at == std::string::npos) continue;
      std::vector<std::uint8_t> bytes;
      int high = -1;
      for (std::size_t k = at; k < text.size(); ++k) {
        const char c = text[k];
        const int v = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
        if (v < 0) continue;
        if (high < 0) {
          high = v;
        } else {
          bytes.push_back(static_cast<std::uint8_t>(high * 16 + v));
          high = -1;
        }
      }
      s.orientation = exif_block_orientation(bytes.data(), bytes.size());
    } else if (key == "XML:com.adobe.xmp") {
      s.orientation = xmp_orientation(texts[i].text, length);
    }
  }
}

// C-style phases: no C++ object with a destructor lives between setjmp and a longjmp out of libpng.
bool read_header(png_structp png, png_infop info, PngSource& s) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_benign_errors(png, 1);
  png_set_crc_action(png, PNG_CRC_DEFAULT, s.strict ? PNG_CRC_ERROR_QUIT : PNG_CRC_WARN_DISCARD);
  png_set_user_limits(png, 1u << 30, 1u << 30);
  png_read_info(png, info);
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(png, info, &s.width, &s.height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  s.channels = png_get_channels(png, info);
  find_orientation(png, info, s);
  return true;
}

bool read_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  return true;
}

// Chunks after the image data may still carry EXIF; damage there cannot change the pixels already read.
// Pillow checks no CRC there, so a bad one only drops its chunk and reading goes on.
void read_trailer(png_structp png, png_infop info, PngSource& s) {
  if (setjmp(png_jmpbuf(png))) return;
  png_set_crc_action(png, PNG_CRC_NO_CHANGE, PNG_CRC_WARN_DISCARD);
  png_read_end(png, info);
  find_orientation(png, info, s);
}

struct PngHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngHandles() { png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr); }
};

[[noreturn]] void fail(const PngSource& s) {
  if (s.truncated) throw DecodeError(concat("truncated PNG: ", s.message));
  throw DecodeError(concat("corrupt PNG: ", s.message));
}

}  // namespace

NativeImage decode_png(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation) {
  // The size from IHDR before libpng sees it, so a size bomb is refused as one.
  if (size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
    auto be32 = [&](std::size_t at) {
      return (std::int64_t{data[at]} << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3];
    };
    check_dimensions(be32(16), be32(20), limits, "PNG");
  }
  PngSource s{data, size};
  s.strict = limits.strict;
  PngHandles h;
  h.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
  if (h.png == nullptr) throw DecodeError("PNG: cannot create a decoder");
  h.info = png_create_info_struct(h.png);
  if (h.info == nullptr) throw DecodeError("PNG: cannot create a decoder");
  png_set_read_fn(h.png, &s, read_bytes);
  if (!read_header(h.png, h.info, s)) fail(s);
  check_dimensions(s.width, s.height, limits, "PNG");
  if (s.channels < 1 || s.channels > 4) throw DecodeError(concat("unsupported PNG: ", s.channels, " channels"));
  NativeImage image = make_native(static_cast<int>(s.width), static_cast<int>(s.height), s.channels);
  std::vector<png_bytep> rows(s.height);
  const std::size_t stride = static_cast<std::size_t>(s.width) * static_cast<std::size_t>(s.channels);
  for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = image.pixels.data() + y * stride;
  if (!read_rows(h.png, rows.data())) fail(s);
  read_trailer(h.png, h.info, s);
  if (!s.strict && s.warning[0] != '\0') {
    record_decode_warning(concat("corrupt PNG data, decoded anyway (strict=False): ", s.warning));
  }
  orientation = s.orientation;
  return image;
}

}  // namespace fastimg::detail
