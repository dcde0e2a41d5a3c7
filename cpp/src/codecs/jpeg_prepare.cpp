#include "fastimg/prepare.hpp"

// clang-format off
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <csetjmp>
#include <cstdlib>
#include <string>

#include "fastimg/errors.hpp"
#include "jpeg_markers.hpp"
#include "jpeg_splice.hpp"
#include "jpeg_warnings.hpp"

namespace fastimg {

namespace {

// Everything libjpeg touches lives in this plain struct, so a longjmp out of an error skips no C++
// destructor. One error manager serves both objects.
struct Transcoder {
  jpeg_decompress_struct in{};
  jpeg_compress_struct out{};
  jpeg_error_mgr err{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX + 64] = {};
  int max_scans = 500;
  std::int64_t max_pixels = 0;
  unsigned char* bytes = nullptr;
  unsigned long size = 0;
  bool in_created = false, out_created = false;
  int interval = 0;  // chosen, set by transcode()
  bool already = false;
};

Transcoder* owner(j_common_ptr c) { return static_cast<Transcoder*>(c->client_data); }

[[noreturn]] void fail(j_common_ptr c) {
  Transcoder* t = owner(c);
  (*c->err->format_message)(c, t->message);
  std::longjmp(t->jump, 1);
}

// Unlike the reader under strict=False, damage libjpeg would paper over is an error here: preparing
// writes the coefficients as they were read, so a grey-filled or resynchronised region would be baked in.
void on_message(j_common_ptr c, int level) {
  if (level >= 0) return;
  if (detail::classify_warning(c->err->msg_code) != detail::JpegWarning::Benign) fail(c);
  c->err->num_warnings++;
}

void on_progress(j_common_ptr c) {
  Transcoder* t = owner(c);
  if (detail::too_many_scans(c, t->max_scans, t->message, sizeof(t->message))) std::longjmp(t->jump, 1);
}

// Already cut the way the reader splices: keep it (unless another interval was asked for).
bool spliceable(const jpeg_decompress_struct& c, const detail::JpegLayout& layout, int interval) {
  const detail::RestartGrid grid = detail::file_restart_grid(c, layout);
  return grid.splices && detail::restart_damage(layout, grid) == nullptr &&
         (interval == 0 || grid.interval == interval);
}

// Whether libjpeg smooths this progressive file's blocks when it decodes it: its scans left some of the
// first AC coefficients approximate or unsent (libjpeg-turbo's smoothing_ok looks at coefficients 1..9). A
// baseline copy of the same coefficients would decode unsmoothed: other pixels, so such files are refused.
bool smoothed_when_decoded(const jpeg_decompress_struct& c) {
  if (!c.progressive_mode || c.coef_bits == nullptr) return false;
  for (int ci = 0; ci < c.num_components; ++ci) {
    if (c.coef_bits[ci][0] < 0) continue;
    for (int k = 1; k < 10; ++k) {
      if (c.coef_bits[ci][k] != 0) return true;
    }
  }
  return false;
}

bool transcode(Transcoder* t, const std::uint8_t* data, std::size_t size, int interval,
               const detail::JpegLayout& layout) {
  t->in.err = jpeg_std_error(&t->err);
  t->err.error_exit = fail;
  t->err.emit_message = on_message;
  t->in.client_data = t;
  t->out.client_data = t;
  if (setjmp(t->jump)) return false;
  jpeg_create_decompress(&t->in);
  t->in_created = true;
  t->progress.progress_monitor = on_progress;
  t->in.progress = &t->progress;
  jpeg_save_markers(&t->in, JPEG_COM, 0xFFFF);
  for (int m = 0; m < 16; ++m) jpeg_save_markers(&t->in, JPEG_APP0 + m, 0xFFFF);
  jpeg_mem_src(&t->in, data, static_cast<unsigned long>(size));
  jpeg_read_header(&t->in, TRUE);
  if (t->in.data_precision != 8) {
    std::snprintf(t->message, sizeof(t->message), "unsupported JPEG: %d-bit samples", t->in.data_precision);
    return false;
  }
  if (static_cast<std::int64_t>(t->in.image_width) * t->in.image_height > t->max_pixels) {
    std::snprintf(t->message, sizeof(t->message), "image too large: %ux%u exceeds the limit of %lld pixels",
                  t->in.image_width, t->in.image_height, static_cast<long long>(t->max_pixels));
    return false;
  }
  if (spliceable(t->in, layout, interval)) {
    t->interval = static_cast<int>(t->in.restart_interval);
    t->already = true;
    return true;
  }
  if (interval > 0) {
    t->interval = interval;
  } else {
    // Entropy-coded bytes per MCU, from everything after the first scan header (EXIF thumbnails and other
    // segments before it do not count).
    const detail::RestartGrid g =
        detail::restart_grid(static_cast<int>(t->in.image_width), static_cast<int>(t->in.image_height),
                             t->in.max_h_samp_factor, t->in.max_v_samp_factor, t->in.num_components == 1, 0);
    const double mcus = static_cast<double>(g.mcus_x) * g.mcus_y;
    t->interval = default_restart_interval(g.mcus_x, static_cast<double>(size - layout.scan_data) / mcus);
  }
  jvirt_barray_ptr* coefficients = jpeg_read_coefficients(&t->in);
  if (smoothed_when_decoded(t->in)) {
    std::snprintf(t->message, sizeof(t->message),
                  "its progressive scans leave coefficients approximate, which decoders smooth and a baseline "
                  "copy would not");
    return false;
  }
  t->out.err = &t->err;
  jpeg_create_compress(&t->out);
  t->out_created = true;
  jpeg_copy_critical_parameters(&t->in, &t->out);
  t->out.optimize_coding = TRUE;
  t->out.restart_interval = static_cast<unsigned>(t->interval);
  // The source's own JFIF and Adobe segments are copied below as they were: they decide how a decoder
  // reads the colour space (Adobe's transform, CMYK inversion), so none is added or rewritten.
  t->out.write_JFIF_header = FALSE;
  t->out.write_Adobe_marker = FALSE;
  jpeg_mem_dest(&t->out, &t->bytes, &t->size);
  jpeg_write_coefficients(&t->out, coefficients);
  for (jpeg_saved_marker_ptr m = t->in.marker_list; m != nullptr; m = m->next) {
    jpeg_write_marker(&t->out, m->marker, m->data, m->data_length);
  }
  jpeg_finish_compress(&t->out);
  jpeg_finish_decompress(&t->in);
  return true;
}

}  // namespace

int default_restart_interval(int mcus_per_row, double bytes_per_mcu) {
  constexpr double kIntervalBytes = 128;
  for (int n = 1; n < mcus_per_row; ++n) {
    if (mcus_per_row % n == 0 && n * bytes_per_mcu >= kIntervalBytes) return n;
  }
  return mcus_per_row > 0 ? mcus_per_row : 1;
}

PreparedJpeg prepare_jpeg(const std::uint8_t* data, std::size_t size, int interval, const DecodeLimits& limits) {
  FASTIMG_CHECK(interval >= 0 && interval <= 65535, "prepare_jpeg: interval must be 0 (choose) or 1..65535 MCUs, got ",
                interval);
  PreparedJpeg result;
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) return result;
  FASTIMG_CHECK(size <= limits.max_bytes, "prepare_jpeg: ", size, " bytes exceed the limit of ", limits.max_bytes);
  detail::JpegLayout layout;
  if (!detail::jpeg_reaches_eoi(data, size, &layout)) {
    throw DecodeError("truncated JPEG: the data ends before the EOI marker that closes the last scan");
  }
  Transcoder t;
  t.max_scans = limits.max_scans;
  t.max_pixels = limits.max_pixels;
  const bool ok = transcode(&t, data, size, interval, layout);
  if (t.out_created) jpeg_destroy_compress(&t.out);
  if (t.in_created) jpeg_destroy_decompress(&t.in);
  if (ok && !t.already) result.bytes.assign(t.bytes, t.bytes + t.size);
  std::free(t.bytes);
  if (!ok) throw DecodeError(std::string("cannot prepare JPEG: ") + t.message);
  result.outcome = t.already ? PreparedJpeg::Outcome::AlreadyPrepared : PreparedJpeg::Outcome::Prepared;
  result.interval = t.interval;
  return result;
}

}  // namespace fastimg
