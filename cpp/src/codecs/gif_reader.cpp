// GIF through giflib: the first frame only, laid out exactly as Pillow's GifImagePlugin loads frame 0
// (then converted to RGB, or RGBA when the frame declares a transparent index).
#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>

#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {
namespace {

struct MemoryInput {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  bool ran_out = false;  // giflib reports a short read as READ_FAILED; this tells truncation apart
  bool faked_end = false;
  bool cut_after_pixels = false;  // size was cut back to where Pillow stops reading

  bool truncated() const { return ran_out || (faked_end && !cut_after_pixels); }
};

int read_memory(GifFileType* gif, GifByteType* buffer, int length) {
  auto* in = static_cast<MemoryInput*>(gif->UserData);
  const std::size_t want = length > 0 ? static_cast<std::size_t>(length) : 0;
  const std::size_t n = std::min(want, in->size - in->pos);
  // Pillow stops reading once the last pixel is decoded, but giflib then still reads the sub-blocks up to
  // the empty one. Answering the first 1-byte read past the end with that empty block accepts a file cut
  // right after its pixels; anywhere else the fake end makes giflib fail, and it counts as truncation.
  if (n == 0 && want == 1 && !in->faked_end) {
    in->faked_end = true;
    buffer[0] = 0;
    return 1;
  }
  if (n < want) in->ran_out = true;
  if (n > 0) std::memcpy(buffer, in->data + in->pos, n);
  in->pos += n;
  return static_cast<int>(n);
}

struct GifCloser {
  void operator()(GifFileType* gif) const {
    int error = 0;
    DGifCloseFile(gif, &error);
  }
};
using GifHandle = std::unique_ptr<GifFileType, GifCloser>;

[[noreturn]] void fail(int error, const MemoryInput& in) {
  if (in.truncated()) throw DecodeError(concat("truncated GIF: data ends after ", in.size, " bytes"));
  const char* message = GifErrorString(error);
  throw DecodeError(concat("corrupt GIF: ", message ? message : "unknown giflib error"));
}

void check(int status, GifFileType* gif, const MemoryInput& in) {
  if (status != GIF_OK) fail(gif->Error, in);
}

GifHandle open_gif(MemoryInput& in) {
  int error = 0;
  GifHandle gif(DGifOpen(&in, read_memory, &error));
  if (!gif) fail(error, in);
  return gif;
}

// Pillow keeps the last transparent index any Graphics Control Extension before the image sets, and
// never clears it when a later one has the flag off.
void read_extension(GifFileType* gif, const MemoryInput& in, int& transparent) {
  int code = 0;
  GifByteType* block = nullptr;
  check(DGifGetExtension(gif, &code, &block), gif, in);
  if (code == GRAPHICS_EXT_FUNC_CODE && block && block[0] >= 4 && (block[1] & 1)) transparent = block[4];
  while (block) check(DGifGetExtensionNext(gif, &block), gif, in);
}

// Leaves `gif` positioned at the first image's pixel data; returns its transparent index or -1.
int seek_first_image(GifFileType* gif, MemoryInput& in) {
  int transparent = -1;
  for (;;) {
    // Pillow skips stray bytes between records; giflib would call them a wrong record type. Outside
    // pixel data giflib reads unbuffered, so moving the read position skips them for it too.
    while (in.pos < in.size && in.data[in.pos] != '!' && in.data[in.pos] != ',' && in.data[in.pos] != ';') ++in.pos;
    GifRecordType record = UNDEFINED_RECORD_TYPE;
    check(DGifGetRecordType(gif, &record), gif, in);
    if (record == IMAGE_DESC_RECORD_TYPE) {
      if (DGifGetImageDesc(gif) != GIF_OK) {
        // giflib refuses LZW code sizes above 8 (Pillow takes up to 12) as a failed read of that byte.
        const int last_byte = in.pos > 0 ? in.data[in.pos - 1] : 0;
        if (!in.truncated() && gif->Error == D_GIF_ERR_READ_FAILED && last_byte > 8) {
          throw DecodeError(concat("unsupported GIF: LZW minimum code size ", last_byte));
        }
        fail(gif->Error, in);
      }
      return transparent;
    }
    if (record == EXTENSION_RECORD_TYPE) {
      read_extension(gif, in, transparent);
    } else if (record == TERMINATE_RECORD_TYPE) {
      throw DecodeError("corrupt GIF: no image in the file");
    }
  }
}

using Palette = std::array<std::uint8_t, 256 * 3>;

// Pillow ignores a colour map that is the identity grey ramp (entry i == (i, i, i)).
bool is_grey_ramp(const ColorMapObject* map) {
  for (int i = 0; i < map->ColorCount; ++i) {
    const GifColorType& c = map->Colors[i];
    if (c.Red != i || c.Green != i || c.Blue != i) return false;
  }
  return true;
}

// What Pillow ends up applying: a meaningful local map, else a meaningful global map (even when the
// local map is a grey ramp), else grey = index. Entries past the map are black, as in Pillow's P mode.
Palette frame_palette(const GifFileType* gif) {
  const ColorMapObject* map = nullptr;
  if (gif->Image.ColorMap && !is_grey_ramp(gif->Image.ColorMap)) {
    map = gif->Image.ColorMap;
  } else if (gif->SColorMap && !is_grey_ramp(gif->SColorMap)) {
    map = gif->SColorMap;
  }
  Palette palette{};
  for (int i = 0; i < 256; ++i) {
    if (map == nullptr) {
      palette[i * 3] = palette[i * 3 + 1] = palette[i * 3 + 2] = static_cast<std::uint8_t>(i);
    } else if (i < map->ColorCount) {
      palette[i * 3] = map->Colors[i].Red;
      palette[i * 3 + 1] = map->Colors[i].Green;
      palette[i * 3 + 2] = map->Colors[i].Blue;
    }
  }
  return palette;
}

struct Expander {
  const Palette& palette;
  int transparent;
  int channels;

  void put(std::uint8_t index, std::uint8_t* out) const {
    std::memcpy(out, &palette[index * 3], 3);
    if (channels == 4) out[3] = index == transparent ? 0 : 255;
  }
};

// Pillow's LZW decoder refuses streams giflib decodes into something anyway: a first code after a clear
// that is not a literal, or a code past the next free table entry. The first frame's codes are checked by
// Pillow's rules up to its last pixel, so such files throw instead of giving pixels Pillow never would.
// run() returns where Pillow stops reading (the end of the sub-block holding the last pixel's code), or
// nothing when the data or the codes end first; running out of data is left to giflib to report.
class PillowLzwCheck {
 public:
  PillowLzwCheck(const std::uint8_t* data, std::size_t size, std::size_t pos) : data_(data), size_(size), pos_(pos) {
    length_.fill(1);  // literals; the rest is written before it is read
  }

  std::optional<std::size_t> run(int min_code_size, std::int64_t pixels) {
    // Below 2, Pillow never widens its codes while giflib does: the two decode different pixels.
    if (min_code_size < 2) throw DecodeError(concat("unsupported GIF: LZW minimum code size ", min_code_size));
    if (min_code_size > 12) throw DecodeError(concat("corrupt GIF: LZW minimum code size ", min_code_size));
    const int clear = 1 << min_code_size;
    reset(min_code_size, clear);
    for (std::int64_t done = 0; done < pixels;) {
      const int code = next_code();
      if (code < 0 || code == clear + 1) return std::nullopt;
      if (code == clear) {
        reset(min_code_size, clear);
        continue;
      }
      done += expand(code, clear);
    }
    if (static_cast<std::size_t>(block_left_) > size_ - pos_) return std::nullopt;  // Pillow waits for whole sub-blocks
    return pos_ + block_left_;
  }

 private:
  void reset(int min_code_size, int clear) {
    code_size_ = min_code_size + 1;
    next_ = clear + 2;
    last_ = -1;
  }

  // Length of the string `code` stands for, after adding the table entry it defines.
  int expand(int code, int clear) {
    if (last_ < 0 ? code > clear : code > next_) throw DecodeError("corrupt GIF: invalid LZW code");
    int length = code < clear ? 1 : code == next_ ? length_[last_] + 1 : length_[code];
    if (last_ >= 0 && next_ < kTable) {
      length_[next_] = static_cast<std::uint16_t>(length_[last_] + 1);
      if (next_ == (1 << code_size_) - 1 && code_size_ < 12) ++code_size_;
      ++next_;
    }
    last_ = code;
    return length;
  }

  // -1 when the data ends first.
  int next_code() {
    while (bit_count_ < code_size_) {
      if (block_left_ == 0) {
        if (pos_ >= size_ || data_[pos_] == 0) return -1;
        block_left_ = data_[pos_++];
      }
      if (pos_ >= size_) return -1;
      bits_ |= static_cast<std::uint32_t>(data_[pos_++]) << bit_count_;
      bit_count_ += 8;
      --block_left_;
    }
    const int code = static_cast<int>(bits_ & ((1u << code_size_) - 1));
    bits_ >>= code_size_;
    bit_count_ -= code_size_;
    return code;
  }

  static constexpr int kTable = 4096;
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_;
  std::uint32_t bits_ = 0;
  int bit_count_ = 0;
  int block_left_ = 0;  // bytes left in the current sub-block
  int code_size_ = 0;
  int next_ = 0;
  int last_ = -1;
  std::array<std::uint16_t, kTable> length_;
};

// giflib goes on reading sub-blocks after the last pixel up to an empty one; Pillow does not, so the
// input is cut back to where Pillow stops and the faked empty block ends it there.
void check_lzw(MemoryInput& in, std::int64_t pixels) {
  // After a faked end there is no pixel data: giflib reports the truncation.
  if (in.faked_end) return;
  // DGifGetImageDesc reads unbuffered and ends with the LZW minimum code size byte: the data follows it.
  const int min_code_size = in.data[in.pos - 1];
  if (const auto end = PillowLzwCheck(in.data, in.size, in.pos).run(min_code_size, pixels)) {
    in.size = *end;
    in.cut_after_pixels = true;
  }
}

// Display row of the k-th row stored in an interlaced frame: passes start at 0, 4, 2, 1 with steps
// 8, 8, 4, 2.
int interlaced_row(int k, int height) {
  static constexpr int kStart[4] = {0, 4, 2, 1};
  static constexpr int kStep[4] = {8, 8, 4, 2};
  for (int pass = 0; pass < 4; ++pass) {
    const int rows = kStart[pass] < height ? (height - kStart[pass] + kStep[pass] - 1) / kStep[pass] : 0;
    if (k < rows) return kStart[pass] + k * kStep[pass];
    k -= rows;
  }
  return -1;
}

void decode_frame(GifFileType* gif, const MemoryInput& in, const Expander& expand, NativeImage& out) {
  const GifImageDesc& desc = gif->Image;
  std::vector<GifPixelType> line(static_cast<std::size_t>(desc.Width));
  const std::size_t stride = static_cast<std::size_t>(out.width) * out.channels;
  for (int k = 0; k < desc.Height; ++k) {
    check(DGifGetLine(gif, line.data(), desc.Width), gif, in);
    const int y = desc.Top + (desc.Interlace ? interlaced_row(k, desc.Height) : k);
    std::uint8_t* dst = out.pixels.data() + y * stride + static_cast<std::size_t>(desc.Left) * out.channels;
    for (int x = 0; x < desc.Width; ++x, dst += out.channels) expand.put(line[x], dst);
  }
}

}  // namespace

NativeImage decode_gif(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation) {
  orientation = 0;
  if (size < 6) throw DecodeError(concat("truncated GIF: data ends after ", size, " bytes"));
  // giflib takes any "GIF" signature; Pillow only these two.
  if (std::memcmp(data, "GIF87a", 6) != 0 && std::memcmp(data, "GIF89a", 6) != 0) {
    throw DecodeError("corrupt GIF: not a GIF87a or GIF89a file");
  }
  MemoryInput in{data, size};
  GifHandle gif = open_gif(in);
  // Pillow accepts a 0x0 screen (the frame then sets the size), so only a real one is checked here.
  if (gif->SWidth > 0 && gif->SHeight > 0) check_dimensions(gif->SWidth, gif->SHeight, limits, "GIF");
  const int transparent = seek_first_image(gif.get(), in);
  const GifImageDesc& desc = gif->Image;
  check_dimensions(desc.Width, desc.Height, limits, "GIF");
  // Like Pillow, a frame reaching past the logical screen enlarges the image.
  const int width = std::max(gif->SWidth, desc.Left + desc.Width);
  const int height = std::max(gif->SHeight, desc.Top + desc.Height);
  check_dimensions(width, height, limits, "GIF");

  check_lzw(in, std::int64_t{desc.Width} * desc.Height);

  const Palette palette = frame_palette(gif.get());
  const Expander expand{palette, transparent, transparent >= 0 ? 4 : 3};
  NativeImage out = make_native(width, height, expand.channels);
  // Pillow starts frame 0 from index 0, or from the transparent index when there is one.
  std::uint8_t fill[4];
  expand.put(static_cast<std::uint8_t>(transparent >= 0 ? transparent : 0), fill);
  for (std::size_t i = 0; i < out.pixels.size(); i += expand.channels) {
    std::memcpy(&out.pixels[i], fill, expand.channels);
  }
  decode_frame(gif.get(), in, expand, out);
  return out;
}

}  // namespace fastimg::detail
