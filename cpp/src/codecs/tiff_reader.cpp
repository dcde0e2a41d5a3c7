// TIFF through libtiff's RGBA interface (first page only), which renders every photometric, bit depth,
// planar layout, strip/tile organisation and codec libtiff knows into 8-bit RGBA. Pixels stay in stored
// order: the Orientation tag is only reported. Where libtiff's rendering differs from Pillow's, two of its
// lookup tables are swapped for ours (see RgbaRenderer) so that:
//   - 16-bit samples keep the high byte (libtiff rounds v / 257 instead);
//   - unassociated alpha is returned as stored (libtiff premultiplies it);
//   - associated (premultiplied) alpha is un-premultiplied with Pillow's formula (libtiff keeps it).
#include <tiffio.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {
namespace {

// ---- Reading from memory -----------------------------------------------------------------------------

struct MemoryFile {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
};

MemoryFile& file_of(thandle_t handle) { return *static_cast<MemoryFile*>(handle); }

tmsize_t read_proc(thandle_t handle, void* out, tmsize_t n) {
  MemoryFile& f = file_of(handle);
  if (n <= 0 || f.pos >= f.size) return 0;
  const std::size_t count = std::min(static_cast<std::size_t>(n), f.size - f.pos);
  std::memcpy(out, f.data + f.pos, count);
  f.pos += count;
  return static_cast<tmsize_t>(count);
}

tmsize_t write_proc(thandle_t, void*, tmsize_t) { return -1; }

toff_t seek_proc(thandle_t handle, toff_t offset, int whence) {
  MemoryFile& f = file_of(handle);
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return static_cast<toff_t>(-1);
  const std::uint64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f.pos : f.size;
  // toff_t is unsigned; a negative relative offset arrives wrapped and wraps back here.
  const std::uint64_t target = base + offset;
  if (target > SIZE_MAX) return static_cast<toff_t>(-1);
  f.pos = static_cast<std::size_t>(target);  // past the end is allowed; reads there return 0 bytes
  return target;
}

int close_proc(thandle_t) { return 0; }

toff_t size_proc(thandle_t handle) { return file_of(handle).size; }

// The buffer stays alive for the whole decode, so libtiff may read it in place ("mapped"); it opens the
// file read-only and never writes through the pointer.
int map_proc(thandle_t handle, void** base, toff_t* size) {
  MemoryFile& f = file_of(handle);
  *base = const_cast<std::uint8_t*>(f.data);
  *size = f.size;
  return 1;
}

void unmap_proc(thandle_t, void*, toff_t) {}

// ---- Diagnostics ---------------------------------------------------------------------------------------

// Filled by libtiff's per-handle callbacks, which must neither throw nor allocate through C++.
struct Diagnostics {
  bool decoding = false;  // set once the directory is read: from then on every warning is damage
  bool failed = false;
  char message[320] = {};
  char recovered[256] = {};  // the first damage libtiff repaired (see recalculated), reported if !strict
};

// Tags the RGBA path reads: a warning that drops or trims one of them can change pixels.
bool names_pixel_tag(const char* text) {
  static const char* const kTags[] = {
      "\"ImageWidth\"",     "\"ImageLength\"",  "\"BitsPerSample\"",   "\"Compression\"",  "\"Photometric",
      "\"FillOrder\"",      "\"StripOffsets\"", "\"SamplesPerPixel\"", "\"RowsPerStrip\"", "\"StripByteCounts\"",
      "\"PlanarConfig",     "\"ColorMap\"",     "\"TileWidth\"",       "\"TileLength\"",   "\"TileOffsets\"",
      "\"TileByteCounts\"", "\"ExtraSamples\"", "\"SampleFormat\"",    "\"YCbCr",          "\"ReferenceBlackWhite\"",
      "\"Predictor\"",      "\"InkSet\"",       "\"JPEGTables\"",      "\"Orientation\"",  "\"TransferFunction\""};
  for (const char* tag : kTags) {
    if (std::strstr(text, tag) != nullptr) return true;
  }
  return false;
}

// Notices libtiff gives on valid files Pillow reads, which leave the pixels as intended. Most concern
// directory parsing: private tags, sloppy ASCII values, unsorted tags, a wrong type or count on a tag the
// RGBA path never reads, tile sizes that are not multiples of 16, and RGB files that lack the
// ExtraSamples tag (libtiff then treats the extra channels as unspecified). Two concern old but
// supported codecs and may arrive while decoding.
bool benign_warning(const char* text, bool decoding) {
  auto starts = [text](const char* prefix) { return std::strncmp(text, prefix, std::strlen(prefix)) == 0; };
  if (starts("Old-style LZW codes") || starts("Deprecated and troublesome old-style JPEG")) return true;
  if (decoding) return false;
  if (starts("Unknown field with tag") || starts("ASCII value for tag") || starts("Nonstandard tile") ||
      starts("Invalid TIFF directory; tags are not sorted") ||
      starts("Sum of Photometric type-related color channels and ExtraSamples")) {
    return true;
  }
  const bool dropped = starts("Wrong data type") || starts("Incorrect count") || starts("incorrect count");
  return dropped && !names_pixel_tag(text);
}

void record(Diagnostics& d, const char* module, const char* text) {
  if (d.failed) return;  // the first complaint is the cause; later ones are usually its echoes
  d.failed = true;
  // libtiff passes the file name as the module of many messages; ours says nothing.
  if (module == nullptr || std::strcmp(module, "memory") == 0) {
    std::snprintf(d.message, sizeof(d.message), "%s", text);
  } else {
    std::snprintf(d.message, sizeof(d.message), "%s: %s", module, text);
  }
}

int on_error(TIFF*, void* user, const char* module, const char* fmt, va_list args) {
  char text[256];
  std::vsnprintf(text, sizeof(text), fmt, args);
  record(*static_cast<Diagnostics*>(user), module, text);
  return 1;  // handled: nothing reaches libtiff's process-wide handler (stderr)
}

// A StripByteCounts that is missing or cannot be right (zero, past the end of the file, less than an
// uncompressed strip needs, or unequal strips of an uncompressed image): libtiff recomputes it from the
// image size and reads the strip from its offset, as Pillow does (it reads uncompressed strips from the
// offset alone, and through its own libtiff otherwise). Damage, but repaired; data that is really cut
// short still fails when the strip is read.
bool recalculated(const char* text) {
  return std::strstr(text, "\"StripByteCounts\"") != nullptr &&
         std::strstr(text, "calculating from imagelength") != nullptr;
}

int on_warning(TIFF*, void* user, const char* module, const char* fmt, va_list args) {
  auto& d = *static_cast<Diagnostics*>(user);
  char text[256];
  std::vsnprintf(text, sizeof(text), fmt, args);
  if (!d.decoding && recalculated(text)) {
    if (d.recovered[0] == '\0') std::snprintf(d.recovered, sizeof(d.recovered), "%s", text);
  } else if (!benign_warning(text, d.decoding)) {
    record(d, module, text);
  }
  return 1;
}

// libtiff's complaints when offsets or counts point past the end of the data: a cut file.
bool sounds_truncated(const std::string& message) {
  for (const char* hint : {"Can not read", "Read error", "IO error", "Seek error", "EOF"}) {
    if (message.find(hint) != std::string::npos) return true;
  }
  return false;
}

void throw_if_failed(const Diagnostics& d) {
  if (d.failed)
    throw DecodeError(concat(sounds_truncated(d.message) ? "truncated TIFF: " : "corrupt TIFF: ", d.message));
}

// ---- Handles -------------------------------------------------------------------------------------------

struct TiffClose {
  void operator()(TIFF* tif) const { TIFFClose(tif); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffClose>;

struct OptionsFree {
  void operator()(TIFFOpenOptions* opts) const { TIFFOpenOptionsFree(opts); }
};

TiffPtr open_memory(MemoryFile& file, Diagnostics& diag, const DecodeLimits& limits) {
  std::unique_ptr<TIFFOpenOptions, OptionsFree> opts(TIFFOpenOptionsAlloc());
  if (!opts) throw DecodeError("TIFF: cannot create a decoder");
  TIFFOpenOptionsSetErrorHandlerExtR(opts.get(), on_error, &diag);
  TIFFOpenOptionsSetWarningHandlerExtR(opts.get(), on_warning, &diag);
  // No single libtiff buffer needs more than a full 16-bit RGBA image of the largest allowed size.
  const std::int64_t max_alloc = std::clamp<std::int64_t>(limits.max_pixels, 1 << 21, std::int64_t{1} << 40) * 8;
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts.get(), static_cast<tmsize_t>(max_alloc));
  TiffPtr tif(TIFFClientOpenExt("memory", "r", &file, read_proc, write_proc, seek_proc, close_proc, size_proc, map_proc,
                                unmap_proc, opts.get()));
  if (!tif) {
    throw_if_failed(diag);
    throw DecodeError("corrupt TIFF: cannot read the header");
  }
  return tif;  // complaints about the directory are raised by the caller, after the size check
}

// ---- Layout --------------------------------------------------------------------------------------------

struct Layout {
  std::uint32_t width = 0, height = 0;
  std::uint16_t bits = 0, samples = 0, sample_format = 0, photometric = 0;
  std::uint16_t alpha = 0;  // EXTRASAMPLE_ASSOCALPHA / _UNASSALPHA when the first extra sample is alpha
  int orientation = 0;
  int channels = 0;
};

int channels_for(const Layout& l) {
  const bool gray = l.photometric == PHOTOMETRIC_MINISBLACK || l.photometric == PHOTOMETRIC_MINISWHITE;
  // libtiff renders alpha only for RGB(A) and 8-bit gray; elsewhere it ignores the extra sample, so
  // the result has no alpha channel rather than an invented opaque one.
  const bool alpha = l.alpha != 0 && (l.photometric == PHOTOMETRIC_RGB || (gray && l.bits == 8));
  if (gray) return alpha ? 2 : 1;
  return alpha ? 4 : 3;
}

Layout read_layout(TIFF* tif) {
  Layout l;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &l.width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &l.height);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &l.bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &l.samples);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &l.sample_format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PHOTOMETRIC, &l.photometric);
  std::uint16_t extra = 0;
  std::uint16_t* info = nullptr;
  if (TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &extra, &info) && extra > 0 && info != nullptr &&
      (info[0] == EXTRASAMPLE_ASSOCALPHA || info[0] == EXTRASAMPLE_UNASSALPHA)) {
    l.alpha = info[0];
  }
  std::uint16_t orientation = 0;
  if (TIFFGetField(tif, TIFFTAG_ORIENTATION, &orientation) && orientation >= 1 && orientation <= 8) {
    l.orientation = orientation;
  }
  l.channels = channels_for(l);
  return l;
}

// Variants the RGBA path would render wrongly (it reinterprets the bits as unsigned integers).
void check_supported(const Layout& l) {
  if (l.sample_format == SAMPLEFORMAT_INT) throw DecodeError("unsupported TIFF: signed integer samples");
  if (l.sample_format == SAMPLEFORMAT_IEEEFP) {
    throw DecodeError(concat("unsupported TIFF: ", l.bits, "-bit float samples"));
  }
  if (l.sample_format != SAMPLEFORMAT_UINT && l.sample_format != SAMPLEFORMAT_VOID) {
    throw DecodeError(concat("unsupported TIFF: sample format ", l.sample_format));
  }
  if (l.bits != 1 && l.bits != 2 && l.bits != 4 && l.bits != 8 && l.bits != 16) {
    throw DecodeError(concat("unsupported TIFF: ", l.bits, " bits per sample"));
  }
}

// A strip or tile is decoded whole into one buffer; a tiny file can claim one of many gigabytes. Legit
// ones are at most about the size of the image (a tile may overhang it), so anything past twice that
// (with some slack for tiny images with big tiles) is refused before libtiff allocates it.
void check_chunk_size(TIFF* tif, const Layout& l, Diagnostics& diag) {
  const std::uint64_t chunk = TIFFIsTiled(tif) ? TIFFTileSize64(tif) : TIFFStripSize64(tif);
  throw_if_failed(diag);
  const double image = double(l.width) * l.height * l.samples * ((l.bits + 7) / 8);  // no overflow
  const double allowed = std::max(2 * image, 16.0 * (1 << 20));
  if (chunk == 0 || static_cast<double>(chunk) > allowed) {
    throw DecodeError(concat("corrupt TIFF: ", TIFFIsTiled(tif) ? "tile" : "strip", " of ", chunk, " bytes for a ",
                             l.width, "x", l.height, " image"));
  }
}

// ---- RGBA rendering ------------------------------------------------------------------------------------

// Replacement tables, indexed as libtiff indexes its own (read-only shared data: thread-safe).
const std::uint8_t* high_byte_table() {  // Bitdepth16To8[v]
  static const auto table = [] {
    std::array<std::uint8_t, 65536> t{};
    for (std::size_t v = 0; v < t.size(); ++v) t[v] = static_cast<std::uint8_t>(v >> 8);
    return t;
  }();
  return table.data();
}

const std::uint8_t* keep_unassociated_table() {  // UaToAa[(a << 8) + v]
  static const auto table = [] {
    std::array<std::uint8_t, 65536> t{};
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(i & 0xff);
    return t;
  }();
  return table.data();
}

// TIFFRGBAImage with libtiff's tables swapped for ours while it renders; libtiff's own are put back
// before TIFFRGBAImageEnd frees them.
class RgbaRenderer {
 public:
  RgbaRenderer(TIFF* tif, Diagnostics& diag) {
    char message[1024] = {};
    if (!TIFFRGBAImageOK(tif, message)) {
      throw_if_failed(diag);
      throw DecodeError(concat("unsupported TIFF: ", message));
    }
    // A failed Begin cleans up after itself; a successful one must be ended before throwing, as a
    // constructor that throws runs no destructor.
    begun_ = TIFFRGBAImageBegin(&img_, tif, 1, message) != 0;
    if (begun_ && diag.failed) {
      TIFFRGBAImageEnd(&img_);
      begun_ = false;
    }
    throw_if_failed(diag);
    if (!begun_) throw DecodeError(concat("unsupported TIFF: ", message));
    img_.req_orientation = img_.orientation;  // stored order: libtiff flips nothing
    saved_high_byte_ = img_.Bitdepth16To8;
    saved_ua_to_aa_ = img_.UaToAa;
    if (img_.Bitdepth16To8 != nullptr) img_.Bitdepth16To8 = const_cast<std::uint8_t*>(high_byte_table());
    if (img_.UaToAa != nullptr) img_.UaToAa = const_cast<std::uint8_t*>(keep_unassociated_table());
  }
  ~RgbaRenderer() {
    if (!begun_) return;
    img_.Bitdepth16To8 = saved_high_byte_;
    img_.UaToAa = saved_ua_to_aa_;
    TIFFRGBAImageEnd(&img_);
  }
  RgbaRenderer(const RgbaRenderer&) = delete;
  RgbaRenderer& operator=(const RgbaRenderer&) = delete;

  // Rows [row, row + rows) as ABGR words, top row first.
  bool get(std::uint32_t* raster, std::uint32_t row, std::uint32_t rows) {
    img_.row_offset = static_cast<int>(row);
    img_.col_offset = 0;
    return TIFFRGBAImageGet(&img_, raster, img_.width, rows) != 0;
  }

 private:
  TIFFRGBAImage img_{};
  bool begun_ = false;
  std::uint8_t* saved_high_byte_ = nullptr;
  std::uint8_t* saved_ua_to_aa_ = nullptr;
};

// Rows per TIFFRGBAImageGet call: whole strips or tile rows, so no strip or tile is decoded twice, and at
// least 64 rows so small strips do not mean many calls.
std::uint32_t band_rows(TIFF* tif, std::uint32_t height) {
  std::uint32_t unit = 0;
  if (TIFFIsTiled(tif)) {
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &unit);
  } else {
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &unit);
  }
  unit = std::clamp<std::uint32_t>(unit, 1, height);
  const std::uint32_t per_band = std::max<std::uint32_t>(1, 64 / unit);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{unit} * per_band, height));
}

// Pillow's unpacking of premultiplied samples ("RGBa", "La"): v * 255 / a, truncated and clipped.
std::uint8_t unpremultiply(std::uint32_t v, std::uint32_t a) {
  if (a == 0) return 0;
  return static_cast<std::uint8_t>(std::min<std::uint32_t>(255, v * 255 / a));
}

void store_band(const std::uint32_t* raster, std::size_t count, const Layout& l, std::uint8_t* out) {
  const bool premultiplied = l.alpha == EXTRASAMPLE_ASSOCALPHA;
  for (std::size_t i = 0; i < count; ++i, out += l.channels) {
    const std::uint32_t p = raster[i];
    std::uint32_t r = TIFFGetR(p), g = TIFFGetG(p), b = TIFFGetB(p);
    const std::uint32_t a = TIFFGetA(p);
    if (premultiplied && (l.channels == 2 || l.channels == 4) && a != 255) {
      r = unpremultiply(r, a);
      g = unpremultiply(g, a);
      b = unpremultiply(b, a);
    }
    switch (l.channels) {
      case 1: out[0] = static_cast<std::uint8_t>(r); break;  // gray renders as r = g = b
      case 2:
        out[0] = static_cast<std::uint8_t>(r);
        out[1] = static_cast<std::uint8_t>(a);
        break;
      default:
        out[0] = static_cast<std::uint8_t>(r);
        out[1] = static_cast<std::uint8_t>(g);
        out[2] = static_cast<std::uint8_t>(b);
        if (l.channels == 4) out[3] = static_cast<std::uint8_t>(a);
    }
  }
}

void render(TIFF* tif, const Layout& l, Diagnostics& diag, NativeImage& image) {
  RgbaRenderer renderer(tif, diag);
  diag.decoding = true;
  const std::uint32_t band = band_rows(tif, l.height);
  std::vector<std::uint32_t> raster(static_cast<std::size_t>(l.width) * band);
  const std::size_t row_bytes = static_cast<std::size_t>(l.width) * l.channels;
  for (std::uint32_t row = 0; row < l.height; row += band) {
    const std::uint32_t rows = std::min(band, l.height - row);
    const bool ok = renderer.get(raster.data(), row, rows);
    throw_if_failed(diag);
    if (!ok) throw DecodeError("corrupt TIFF: cannot decode the image data");
    store_band(raster.data(), static_cast<std::size_t>(l.width) * rows, l, image.pixels.data() + row * row_bytes);
  }
}

}  // namespace

NativeImage decode_tiff(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation) {
  MemoryFile file{data, size};
  Diagnostics diag;
  TiffPtr tif = open_memory(file, diag, limits);
  const Layout layout = read_layout(tif.get());
  // An oversized claim is refused as such even when the directory also drew complaints.
  check_dimensions(layout.width, layout.height, limits, "TIFF");
  throw_if_failed(diag);
  check_supported(layout);
  check_chunk_size(tif.get(), layout, diag);
  NativeImage image = make_native(static_cast<int>(layout.width), static_cast<int>(layout.height), layout.channels);
  render(tif.get(), layout, diag, image);
  if (!limits.strict && diag.recovered[0] != '\0') {
    record_decode_warning(concat("corrupt TIFF data, decoded anyway (strict=False): ", diag.recovered));
  }
  orientation = layout.orientation;
  return image;
}

}  // namespace fastimg::detail
