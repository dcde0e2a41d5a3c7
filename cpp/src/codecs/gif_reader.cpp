// GIF through giflib: the first frame only, laid out exactly as Pillow's GifImagePlugin loads frame 0
// (then converted to RGB, or RGBA when the frame declares a transparent index).
#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {
namespace {

struct MemoryInput {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  bool ran_out = false;  // giflib reports a short read as READ_FAILED; this tells truncation apart
};

int read_memory(GifFileType* gif, GifByteType* buffer, int length) {
  auto* in = static_cast<MemoryInput*>(gif->UserData);
  const std::size_t want = length > 0 ? static_cast<std::size_t>(length) : 0;
  const std::size_t n = std::min(want, in->size - in->pos);
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
  if (in.ran_out) throw DecodeError(concat("truncated GIF: data ends after ", in.size, " bytes"));
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
int seek_first_image(GifFileType* gif, const MemoryInput& in) {
  int transparent = -1;
  for (;;) {
    GifRecordType record = UNDEFINED_RECORD_TYPE;
    check(DGifGetRecordType(gif, &record), gif, in);
    if (record == IMAGE_DESC_RECORD_TYPE) {
      check(DGifGetImageDesc(gif), gif, in);
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

  const Palette palette = frame_palette(gif.get());
  const Expander expand{palette, transparent, transparent >= 0 ? 4 : 3};
  NativeImage out = make_native(width, height, expand.channels);
  // Pillow starts frame 0 from index 0, or from the transparent index when there is one.
  std::uint8_t fill[4];
  expand.put(static_cast<std::uint8_t>(transparent >= 0 ? transparent : 0), fill);
  for (std::size_t i = 0; i < out.pixels.size(); i += expand.channels)
    std::memcpy(&out.pixels[i], fill, expand.channels);
  decode_frame(gif.get(), in, expand, out);
  return out;
}

}  // namespace fastimg::detail
