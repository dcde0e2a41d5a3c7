#include "jpeg_reader.hpp"

// clang-format off
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
// libjpeg-turbo's internal structs (installed with its headers): the crop columns of jpeg_decomp_master and
// the per-component IDCT pointers, for region decoding in raw-data mode (see c_decode_planes).
#include <jpegint.h>
// clang-format on

#include <algorithm>
#include <atomic>
#include <csetjmp>
#include <cstring>
#include <string>

#include "exif.hpp"
#include "fastimg/errors.hpp"
#include "format_reader.hpp"
#include "jpeg_arena.hpp"
#include "jpeg_markers.hpp"
#include "jpeg_warnings.hpp"

namespace fastimg::detail {

// libjpeg reports errors through callbacks that must not return. We longjmp back into the small C-style
// functions below, which hold no C++ objects with destructors between setjmp and the libjpeg calls.
struct JpegReader::State {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr err{};
  jpeg_progress_mgr progress{};
  JpegArena arena;
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX + 64] = {};
  int max_scans = 500;
  bool strict = true;
  bool created = false;
  // Tables persist in a decompressor from one image to the next (libjpeg's abbreviated datastreams): a file
  // without its own DHT or DQT would decode with the previous image's. Slots a file leaves undefined are
  // reset to what a fresh decompressor has (reset_leftover_tables); these keep the tables set aside.
  JHUFF_TBL standard_dc[2] = {}, standard_ac[2] = {};
  JQUANT_TBL* quant_aside[NUM_QUANT_TBLS] = {};
  JHUFF_TBL *dc_aside[NUM_HUFF_TBLS] = {}, *ac_aside[NUM_HUFF_TBLS] = {};
  // decode_mcu_with_restarts: libjpeg's decode_mcu for this image, its marker reader's read_restart_marker,
  // the index of the next MCU, and where the data after a paused restart starts.
  boolean (*decode_mcu)(j_decompress_ptr, JBLOCKROW*) = nullptr;
  jpeg_marker_parser_method read_restart_marker = nullptr;
  unsigned long next_mcu = 0;
  unsigned int in_interval = 0, column = 0;  // the next MCU's place in its interval and in its row
  bool pause_after_restart = false;
  const JOCTET* paused_at = nullptr;
  bool skip_right = false;  // MCUs right of the region are never decoded (rows hold whole intervals)
  bool warned = false;      // this image's damage was recorded (strict = false): one record per image
  // The runway check (read_restart_then_pause): zero bytes the splice put before each RSTn, and the extra
  // bytes libjpeg found before the marker being read.
  long runway = 0, extra_before_marker = -1;
  bool reading_restart = false;
};

namespace {

using State = JpegReader::State;

State* state_of(j_common_ptr c) { return reinterpret_cast<State*>(c->client_data); }

JpegArena* arena_of(j_common_ptr c) { return &state_of(c)->arena; }

// libjpeg's corrupt-data messages begin "Corrupt JPEG data: "; ours say so already.
const char* without_libjpeg_prefix(const char* text) {
  static constexpr char kPrefix[] = "Corrupt JPEG data: ";
  return std::strncmp(text, kPrefix, sizeof(kPrefix) - 1) == 0 ? text + sizeof(kPrefix) - 1 : text;
}

[[noreturn]] void fail(State* s, const char* what) {
  std::snprintf(s->message, sizeof(s->message), "%s", without_libjpeg_prefix(what));
  std::longjmp(s->jump, 1);
}

[[noreturn]] void on_error_exit(j_common_ptr c) {
  char text[JMSG_LENGTH_MAX];
  (*c->err->format_message)(c, text);
  fail(state_of(c), text);
}

// Damage accepted under strict = false: recorded once an image, whatever libjpeg said before it.
void record_damage(State* s, const char* what) {
  if (s->warned) return;
  s->warned = true;
  record_decode_warning(std::string("corrupt JPEG data, decoded anyway (strict=False): ") +
                        without_libjpeg_prefix(what));
}

// Damage inside a scan, reported by libjpeg or found by the reader: an error under strict, else recorded.
void damage(State* s, const char* what) {
  if (s->strict) fail(s, what);
  record_damage(s, what);
}

// Warnings that mean the delivered pixels are missing or wrong (jpeg_warnings.hpp) are errors for us; benign
// ones are counted and ignored. Under strict = false the recoverable ones (damage inside a scan, which libjpeg
// resynchronises after) are recorded instead; a file that ends early stays an error.
void on_emit_message(j_common_ptr c, int level) {
  if (level >= 0) return;  // trace messages
  State* s = state_of(c);
  switch (classify_warning(c->err->msg_code)) {
    case JpegWarning::Truncated: on_error_exit(c);
    case JpegWarning::Corrupt: {
      char text[JMSG_LENGTH_MAX];
      (*c->err->format_message)(c, text);
      damage(s, text);
      break;
    }
    case JpegWarning::Benign:
      if (c->err->msg_code == JWRN_EXTRANEOUS_DATA && s->reading_restart)
        s->extra_before_marker = c->err->msg_parm.i[0];
      break;
  }
  c->err->num_warnings++;
}

void on_progress(j_common_ptr c) {
  State* s = state_of(c);
  if (too_many_scans(c, s->max_scans, s->message, sizeof(s->message))) std::longjmp(s->jump, 1);
}

boolean read_restart_then_pause(j_decompress_ptr c);

bool c_create(State* s) {
  s->cinfo.err = jpeg_std_error(&s->err);
  s->err.error_exit = on_error_exit;
  s->err.emit_message = on_emit_message;
  s->cinfo.client_data = s;
  if (setjmp(s->jump)) return false;
  jpeg_create_decompress(&s->cinfo);
  s->created = true;
  JpegArena::set_owner(&arena_of);
  s->arena.install(reinterpret_cast<j_common_ptr>(&s->cinfo));
  s->progress.progress_monitor = on_progress;
  s->cinfo.progress = &s->progress;
  jpeg_save_markers(&s->cinfo, JPEG_APP0 + 1, 0xFFFF);
  s->read_restart_marker = s->cinfo.marker->read_restart_marker;
  s->cinfo.marker->read_restart_marker = read_restart_then_pause;
  return true;
}

// The standard Huffman tables (JPEG Annex K.3) a fresh decompressor fills empty slots 0 and 1 with, taken
// from libjpeg's own compressor defaults.
bool c_standard_tables(State* s) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  err.error_exit = on_error_exit;
  c.client_data = s;
  if (setjmp(s->jump)) {
    jpeg_destroy_compress(&c);
    return false;
  }
  jpeg_create_compress(&c);
  c.in_color_space = JCS_RGB;
  c.input_components = 3;
  jpeg_set_defaults(&c);
  for (int i = 0; i < 2; ++i) {
    s->standard_dc[i] = *c.dc_huff_tbl_ptrs[i];
    s->standard_ac[i] = *c.ac_huff_tbl_ptrs[i];
  }
  jpeg_destroy_compress(&c);
  return true;
}

// Puts the tables set aside for the last image back into their empty slots, so that a DQT or DHT of the next
// file fills the same memory (libjpeg allocates tables for the decompressor's lifetime).
void restore_tables(State* s) {
  j_decompress_ptr c = &s->cinfo;
  for (int i = 0; i < NUM_QUANT_TBLS; ++i) {
    if (c->quant_tbl_ptrs[i] == nullptr) c->quant_tbl_ptrs[i] = s->quant_aside[i];
    s->quant_aside[i] = nullptr;
  }
  for (int i = 0; i < NUM_HUFF_TBLS; ++i) {
    if (c->dc_huff_tbl_ptrs[i] == nullptr) c->dc_huff_tbl_ptrs[i] = s->dc_aside[i];
    if (c->ac_huff_tbl_ptrs[i] == nullptr) c->ac_huff_tbl_ptrs[i] = s->ac_aside[i];
    s->dc_aside[i] = s->ac_aside[i] = nullptr;
  }
}

void reset_huffman(JHUFF_TBL*& slot, JHUFF_TBL*& aside, const JHUFF_TBL* standard) {
  if (slot == nullptr) return;
  if (standard != nullptr) {
    *slot = *standard;  // as std_huff_tables would fill the empty slot of a fresh decompressor
  } else {
    aside = slot;  // empty, as in a fresh decompressor: a scan that uses it fails
    slot = nullptr;
  }
}

// After read_header: every slot the file does not define holds what a fresh decompressor would have there.
void reset_leftover_tables(State* s, const JpegLayout& layout) {
  j_decompress_ptr c = &s->cinfo;
  for (int i = 0; i < NUM_QUANT_TBLS; ++i) {
    if ((layout.quant_tables >> i & 1u) == 0 && c->quant_tbl_ptrs[i] != nullptr) {
      s->quant_aside[i] = c->quant_tbl_ptrs[i];
      c->quant_tbl_ptrs[i] = nullptr;
    }
  }
  for (int i = 0; i < NUM_HUFF_TBLS; ++i) {
    if ((layout.dc_tables >> i & 1u) == 0)
      reset_huffman(c->dc_huff_tbl_ptrs[i], s->dc_aside[i], i < 2 ? &s->standard_dc[i] : nullptr);
    if ((layout.ac_tables >> i & 1u) == 0)
      reset_huffman(c->ac_huff_tbl_ptrs[i], s->ac_aside[i], i < 2 ? &s->standard_ac[i] : nullptr);
  }
}

bool c_read_header(State* s, const std::uint8_t* data, std::size_t size) {
  if (setjmp(s->jump)) {
    jpeg_abort_decompress(&s->cinfo);
    return false;
  }
  // A previous image may have been left mid-way (its item failed after the header): reset first.
  jpeg_abort_decompress(&s->cinfo);
  restore_tables(s);
  s->err.num_warnings = 0;
  s->warned = false;
  jpeg_mem_src(&s->cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&s->cinfo, TRUE);
  return true;
}

// libjpeg-turbo decodes every MCU of a file with restart intervals on its slow Huffman path: its decode_mcu
// turns the fast path off whenever cinfo->restart_interval is set, although the fast path hands any MCU that
// meets a marker back to the slow one. Huffman decoding is half of a spliced crop's time, and prepared files
// restart every 1-2 MCUs. decode_mcu_with_restarts steers libjpeg's own decode_mcu through public fields:
// - libjpeg counts MCUs down from restart_interval and, at 0, processes a restart (discard the bit buffer,
//   read the RSTn through cinfo->marker->read_restart_marker, zero the DC predictions, count from the
//   interval it reads then) before decoding; with restart_interval 0 it neither counts nor restarts.
// - So the count is first run down to 0 without decoding (insufficient_data set: libjpeg decodes nothing for
//   an MCU then), every MCU is decoded with restart_interval 0 (fast path), and before each interval's first
//   MCU a call with restart_interval 1 processes the restart alone: read_restart_then_pause leaves a marker
//   pending, so process_restart does not clear insufficient_data and that call decodes nothing.
// The RSTn markers are read at the same MCUs as before and the coefficients are the same; damaged files take
// libjpeg's own path (a restart that leaves a real marker pending decodes as before).
boolean read_restart_then_pause(j_decompress_ptr c) {
  State* s = state_of(reinterpret_cast<j_common_ptr>(c));
  s->extra_before_marker = c->unread_marker == 0 ? 0 : -1;  // -1: the decode already ran into the marker
  s->reading_restart = true;
  const boolean read = s->read_restart_marker(c);
  s->reading_restart = false;
  if (!read) return FALSE;
  // In a splice, an interval whose data ends early decodes runway zeros instead of meeting its marker: fewer
  // runway bytes are left (the file's own extra bytes come on top), or none and the marker met.
  if (s->runway > 0 && s->extra_before_marker < s->runway) {
    damage(s, "an interval's entropy-coded data ends before its restart marker");
  }
  if (s->pause_after_restart && c->unread_marker == 0) {
    c->unread_marker = JPEG_RST0;  // any marker: process_restart keeps insufficient_data while one is pending
    c->entropy->insufficient_data = TRUE;
    s->paused_at = c->src->next_input_byte;
  }
  return TRUE;
}

// decode_mcu without decoding: counts the MCU down, processes a restart when the count is 0.
boolean count_mcu(State* s, j_decompress_ptr c, JBLOCKROW* data) {
  const boolean insufficient = c->entropy->insufficient_data;
  c->entropy->insufficient_data = TRUE;
  const boolean ok = s->decode_mcu(c, data);
  c->entropy->insufficient_data = insufficient;
  return ok;
}

// The next MCU's place, counted: no division per MCU on the hot path.
void advance(State* s, unsigned int interval, unsigned int per_row) {
  ++s->next_mcu;
  if (++s->in_interval == interval) s->in_interval = 0;
  if (++s->column == per_row) s->column = 0;
}

boolean decode_mcu_with_restarts(j_decompress_ptr c, JBLOCKROW* data) {
  State* s = state_of(reinterpret_cast<j_common_ptr>(c));
  const unsigned int interval = c->restart_interval, per_row = c->MCUs_per_row;
  boolean ok = TRUE;
  if (s->next_mcu == 0) {
    // A file with fewer MCUs than an interval never restarts: it needs no count.
    const unsigned long mcus = static_cast<unsigned long>(per_row) * c->MCU_rows_in_scan;
    for (unsigned long i = 0; i < std::min<unsigned long>(interval, mcus) && ok; ++i) ok = count_mcu(s, c, nullptr);
  } else if (s->in_interval == 0) {
    c->restart_interval = 1;
    s->pause_after_restart = true;
    s->paused_at = nullptr;
    ok = s->decode_mcu(c, data);
    s->pause_after_restart = false;
    // Not paused: a damaged restart left a marker pending, and libjpeg decoded the MCU its own way.
    if (s->paused_at == nullptr) {
      c->restart_interval = interval;
      if (ok) advance(s, interval, per_row);
      return ok;
    }
    c->unread_marker = 0;
    c->entropy->insufficient_data = FALSE;
  }
  // Right of the region's last iMCU column (jpeg_crop_scanline's, or restrict_to_region's) no IDCT runs, and
  // the rest of the row's interval need not be decoded either: the next restart finds its marker.
  const bool needed = !s->skip_right || s->column <= c->master->last_iMCU_col;
  c->restart_interval = 0;
  if (ok && needed) ok = s->decode_mcu(c, data);
  c->restart_interval = interval;
  if (ok) advance(s, interval, per_row);  // a suspended MCU is decoded again (memory sources never suspend)
  return ok;
}

// After jpeg_start_decompress, for a single sequential Huffman scan with restart intervals.
void use_fast_huffman_with_restarts(State* s) {
  j_decompress_ptr c = &s->cinfo;
  if (c->restart_interval == 0 || c->progressive_mode || c->arith_code || c->inputctl->has_multiple_scans ||
      c->Ss != 0 || c->Se != DCTSIZE2 - 1) {
    return;
  }
  s->decode_mcu = c->entropy->decode_mcu;
  s->next_mcu = 0;
  s->in_interval = s->column = 0;
  c->entropy->decode_mcu = decode_mcu_with_restarts;
  // Skipping needs every row to start an interval, and MCUs that are iMCU columns (one component: 1x1).
  const unsigned int per_row = c->MCUs_per_row;
  const jpeg_component_info* first = c->cur_comp_info[0];
  s->skip_right = c->restart_interval <= per_row && per_row % c->restart_interval == 0 &&
                  (c->comps_in_scan > 1 || (first->h_samp_factor == 1 && first->v_samp_factor == 1));
}

// libjpeg-turbo's SIMD colour converters write a row whose start is aligned to their vector size (16 bytes
// for SSE2, 32 for AVX2) with non-temporal stores and end with an sfence: the pixels go to memory, not the
// cache, and a resampler that reads them next waits on memory (32-px files: 23 against 16.7 us each).
// Cached rows start 8 bytes into a cache line (kRowStart), so no vector size divides their address, and
// lie an odd number of lines apart, so rows read together spread over the cache's sets.
constexpr std::size_t kLine = 64, kRowStart = 8;

std::size_t cached_stride(std::size_t row_bytes) {
  const std::size_t lines = (row_bytes + kLine - 1) / kLine;
  return (lines | 1) * kLine;
}

struct DecodeArgs {
  int denom;
  J_COLOR_SPACE space;
  int channels;
  int x0, x1, y0, y1;
  std::uint8_t* buffer;  // room for (y1 - y0) rows of the whole scaled width at cached_stride()
  bool cached;           // rows laid out by cached_stride(), else packed
  bool fast_dct;
  std::size_t stride;  // set by c_decode: bytes from one output row to the next
  int out_x0, out_width;
};

bool c_decode(State* s, DecodeArgs* a) {
  if (setjmp(s->jump)) {
    jpeg_abort_decompress(&s->cinfo);
    return false;
  }
  j_decompress_ptr c = &s->cinfo;
  c->scale_num = 1;
  c->scale_denom = static_cast<unsigned>(a->denom);
  c->out_color_space = a->space;
  c->dct_method = a->fast_dct ? JDCT_IFAST : JDCT_ISLOW;
  jpeg_start_decompress(c);
  use_fast_huffman_with_restarts(s);
  JDIMENSION xoffset = static_cast<JDIMENSION>(a->x0);
  JDIMENSION width = static_cast<JDIMENSION>(a->x1 - a->x0);
  if (xoffset > 0 || width < c->output_width) jpeg_crop_scanline(c, &xoffset, &width);
  a->out_x0 = static_cast<int>(xoffset);
  a->out_width = static_cast<int>(width);
  if (a->y0 > 0) jpeg_skip_scanlines(c, static_cast<JDIMENSION>(a->y0));
  const std::size_t row_bytes = static_cast<std::size_t>(width) * static_cast<std::size_t>(a->channels);
  a->stride = a->cached ? cached_stride(row_bytes) : row_bytes;
  const std::size_t stride = a->stride;
  while (c->output_scanline < static_cast<JDIMENSION>(a->y1)) {
    JSAMPROW row = a->buffer + static_cast<std::size_t>(c->output_scanline - static_cast<JDIMENSION>(a->y0)) * stride;
    jpeg_read_scanlines(c, &row, 1);
  }
  jpeg_abort_decompress(c);
  return true;
}

#if JPEG_LIB_VERSION >= 70
int dct_scaled_size(const jpeg_component_info& c) { return c.DCT_h_scaled_size; }
int min_dct_scaled_size(const jpeg_decompress_struct& c) { return c.min_DCT_h_scaled_size; }
#else
int dct_scaled_size(const jpeg_component_info& c) { return c.DCT_scaled_size; }
int min_dct_scaled_size(const jpeg_decompress_struct& c) { return c.min_DCT_scaled_size; }
#endif

struct PlanesArgs {
  int denom;
  bool fast_dct;
  int x0, x1, y0, y1;  // scaled image columns and rows wanted
  std::vector<std::uint8_t>* buffer;
  int width[3], height[3], stride[3], rows[3];  // plane sizes (valid samples), row bytes, rows decoded
  int samp_h[3], samp_v[3], dct[3], max_h, max_v, min_dct;
  int out_x0, out_y0;  // scaled image pixel of the planes' first sample
};

void skip_idct(j_decompress_ptr, jpeg_component_info*, JCOEFPTR, JSAMPARRAY, JDIMENSION) {}

// Raw-data output has no jpeg_crop_scanline or jpeg_skip_scanlines, but the coefficient controller honours
// the crop columns jpeg_crop_scanline would set (jpeg_decomp_master's first/last iMCU and MCU columns: no
// IDCT outside them, output column 0 at the first), and it calls the IDCT through per-component pointers:
// pointing them at a no-op for the iMCU rows above the region leaves only entropy decoding there.
// Returns the first needed iMCU row.
int restrict_to_region(j_decompress_ptr c, PlanesArgs* a, int imcu_rows, int lines_per_row) {
  const int imcu_w = a->max_h * a->min_dct;  // scaled image columns per iMCU column
  const int total_cols = (static_cast<int>(c->output_width) + imcu_w - 1) / imcu_w;
  const int first_col = std::min(std::max(a->x0, 0) / imcu_w, total_cols - 1);
  const int last_col = std::max(first_col, std::min((a->x1 + imcu_w - 1) / imcu_w, total_cols) - 1);
  c->master->first_iMCU_col = static_cast<JDIMENSION>(first_col);
  c->master->last_iMCU_col = static_cast<JDIMENSION>(last_col);
  for (int p = 0; p < 3; ++p) {
    const jpeg_component_info& comp = c->comp_info[p];
    c->master->first_MCU_col[p] = static_cast<JDIMENSION>(first_col * comp.h_samp_factor);
    c->master->last_MCU_col[p] = static_cast<JDIMENSION>(
        std::min((last_col + 1) * comp.h_samp_factor, static_cast<int>(comp.width_in_blocks)) - 1);
  }
  a->out_x0 = first_col * imcu_w;
  return std::min(std::max(a->y0, 0) / lines_per_row, imcu_rows - 1);
}

// Raw-data decode of the region: whole iMCU rows, each component into its own plane, from the iMCU row
// holding y0 until y1 is covered, iMCU columns covering [x0, x1) only.
bool c_decode_planes(State* s, PlanesArgs* a) {
  if (setjmp(s->jump)) {
    jpeg_abort_decompress(&s->cinfo);
    return false;
  }
  j_decompress_ptr c = &s->cinfo;
  c->scale_num = 1;
  c->scale_denom = static_cast<unsigned>(a->denom);
  c->dct_method = a->fast_dct ? JDCT_IFAST : JDCT_ISLOW;
  c->raw_data_out = TRUE;
  jpeg_start_decompress(c);
  use_fast_huffman_with_restarts(s);
  a->max_h = c->max_h_samp_factor;
  a->max_v = c->max_v_samp_factor;
  a->min_dct = min_dct_scaled_size(*c);
  const int lines_per_row = a->max_v * a->min_dct;  // scaled image rows per iMCU row
  const int imcu_rows = std::min(static_cast<int>(c->total_iMCU_rows), (a->y1 + lines_per_row - 1) / lines_per_row);
  const int first_row = restrict_to_region(c, a, imcu_rows, lines_per_row);
  const int kept_rows = imcu_rows - first_row;
  std::size_t offsets[3], total = 0;
  for (int p = 0; p < 3; ++p) {
    const jpeg_component_info& comp = c->comp_info[p];
    a->samp_h[p] = comp.h_samp_factor;
    a->samp_v[p] = comp.v_samp_factor;
    a->dct[p] = dct_scaled_size(comp);
    // libjpeg writes whole blocks, dummy ones of a partial MCU included: room for every block of the columns.
    const int first_block = static_cast<int>(c->master->first_MCU_col[p]);
    const int blocks =
        (static_cast<int>(c->master->last_iMCU_col - c->master->first_iMCU_col) + 1) * comp.h_samp_factor;
    a->width[p] = std::min(static_cast<int>(comp.downsampled_width) - first_block * a->dct[p], blocks * a->dct[p]);
    a->height[p] = static_cast<int>(comp.downsampled_height) - first_row * comp.v_samp_factor * a->dct[p];
    a->stride[p] = (blocks * a->dct[p] + 31) / 32 * 32;
    a->rows[p] = kept_rows * comp.v_samp_factor * a->dct[p];
    offsets[p] = total;
    total += static_cast<std::size_t>(a->stride[p]) * static_cast<std::size_t>(a->rows[p]);
  }
  a->buffer->resize(total);
  std::uint8_t* base = a->buffer->data();
  // Row pointers for one iMCU row per component (at most 4 * 16 rows each).
  JSAMPROW rows[3][64];
  JSAMPARRAY planes[3] = {rows[0], rows[1], rows[2]};
  inverse_DCT_method_ptr idct[3];
  for (int p = 0; p < 3; ++p) {
    idct[p] = c->idct->inverse_DCT[p];
    if (first_row > 0) c->idct->inverse_DCT[p] = skip_idct;
  }
  for (int r = 0; r < imcu_rows; ++r) {
    if (r == first_row) {
      for (int p = 0; p < 3; ++p) c->idct->inverse_DCT[p] = idct[p];
    }
    const int slot = std::max(r - first_row, 0);  // rows above the region write nothing: any slot will do
    for (int p = 0; p < 3; ++p) {
      const int n = a->samp_v[p] * a->dct[p];
      for (int k = 0; k < n; ++k) {
        rows[p][k] =
            base + offsets[p] + static_cast<std::size_t>(slot * n + k) * static_cast<std::size_t>(a->stride[p]);
      }
    }
    jpeg_read_raw_data(c, planes, static_cast<JDIMENSION>(lines_per_row));
  }
  a->out_y0 = first_row * lines_per_row;
  a->y1 = imcu_rows * lines_per_row;
  jpeg_abort_decompress(c);
  return true;
}

// Adobe applications store CMYK inverted (0 = full ink), which is what libjpeg hands back for files
// with an Adobe marker; others store it plainly.
void cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* out, std::size_t pixels, bool inverted, int out_channels) {
  for (std::size_t i = 0; i < pixels; ++i, cmyk += 4, out += out_channels) {
    int c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
    if (!inverted) {
      c = 255 - c;
      m = 255 - m;
      y = 255 - y;
      k = 255 - k;
    }
    const int r = (c * k + 127) / 255, g = (m * k + 127) / 255, b = (y * k + 127) / 255;
    if (out_channels == 1) {
      out[0] = pillow_luma(static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b));
    } else {
      out[0] = static_cast<std::uint8_t>(r);
      out[1] = static_cast<std::uint8_t>(g);
      out[2] = static_cast<std::uint8_t>(b);
      if (out_channels == 4) out[3] = 255;
    }
  }
}

}  // namespace

JpegReader::JpegReader() : state_(std::make_unique<State>()) {
  if (!c_standard_tables(state_.get()) || !c_create(state_.get())) {
    throw DecodeError(std::string("cannot create a JPEG decoder: ") + state_->message);
  }
}

JpegReader::~JpegReader() {
  if (state_->created) jpeg_destroy_decompress(&state_->cinfo);
}

JpegHeader JpegReader::read_header(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits) {
  State* s = state_.get();
  s->max_scans = limits.max_scans;
  s->strict = limits.strict;
  if (!c_read_header(s, data, size)) throw DecodeError(std::string("invalid JPEG: ") + s->message);
  const jpeg_decompress_struct& c = s->cinfo;
  JpegHeader h;
  h.width = static_cast<int>(c.image_width);
  h.height = static_cast<int>(c.image_height);
  h.components = c.num_components;
  h.cmyk = c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK;
  h.ycbcr = c.num_components == 3 && c.jpeg_color_space == JCS_YCbCr;
  h.max_h = c.max_h_samp_factor;
  h.max_v = c.max_v_samp_factor;
  if (h.width <= 0 || h.height <= 0 || c.image_width > 65535 || c.image_height > 65535) {
    jpeg_abort_decompress(&s->cinfo);
    throw DecodeError(detail::concat("invalid JPEG: bad dimensions ", c.image_width, "x", c.image_height));
  }
  if (static_cast<std::int64_t>(h.width) * h.height > limits.max_pixels) {
    jpeg_abort_decompress(&s->cinfo);
    throw DecodeError(detail::concat("image too large: ", h.width, "x", h.height, " exceeds the limit of ",
                                     limits.max_pixels, " pixels"));
  }
  // Huffman coding spends at least one bit on every 8x8 block of the first component's first scan, so a
  // file smaller than that cannot hold the image it claims: refuse it before allocating for that size.
  const std::uint64_t blocks =
      (static_cast<std::uint64_t>(h.width) + 7) / 8 * ((static_cast<std::uint64_t>(h.height) + 7) / 8);
  if (!c.arith_code && static_cast<std::uint64_t>(size) * 8 < blocks) {
    jpeg_abort_decompress(&s->cinfo);
    throw DecodeError(
        detail::concat("truncated JPEG: ", size, " bytes cannot hold a ", h.width, "x", h.height, " image"));
  }
  if (!jpeg_reaches_eoi(data, size, &layout_)) {
    jpeg_abort_decompress(&s->cinfo);
    throw DecodeError("truncated JPEG: the data ends before the EOI marker that closes the last scan");
  }
  reset_leftover_tables(s, layout_);
  data_ = data;
  size_ = size;
  spliced_ = false;
  grid_ = RestartGrid{};
  // Intervals that are missing or out of order fail whatever the crop, as a truncated file does: a crop
  // from the spliced intervals would otherwise decode where the whole file does not.
  const RestartGrid grid = file_restart_grid(c, layout_);
  if (grid.interval > 0) {
    if (const char* problem = restart_damage(layout_, grid)) {
      if (s->strict) {
        jpeg_abort_decompress(&s->cinfo);
        throw DecodeError(std::string("corrupt JPEG: ") + problem);
      }
      record_damage(s, problem);
    } else if (grid.splices) {
      grid_ = grid;
    }
  }
  if (h.components != 1 && h.components != 3 && h.components != 4) {
    jpeg_abort_decompress(&s->cinfo);
    throw DecodeError(detail::concat("unsupported JPEG: ", h.components, " colour components"));
  }
  // EXIF first, then XMP's tiff:Orientation: the order in which Pillow's exif_transpose looks.
  static constexpr char kXmp[] = "http://ns.adobe.com/xap/1.0/";
  int xmp = 0;
  for (jpeg_saved_marker_ptr m = c.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1) continue;
    const int o = exif_orientation(m->data, m->data_length);
    if (o != 0) {
      h.orientation = o;
      xmp = 0;
      break;
    }
    if (xmp == 0 && m->data_length > sizeof(kXmp) && std::memcmp(m->data, kXmp, sizeof(kXmp)) == 0) {
      xmp = xmp_orientation(reinterpret_cast<const char*>(m->data) + sizeof(kXmp), m->data_length - sizeof(kXmp));
    }
  }
  if (xmp != 0) h.orientation = xmp;
  header_ = h;
  return h;
}

void JpegReader::scaled_size(int denom, int& width, int& height) const {
  // libjpeg's output size at 1/denom (jpeg_core_output_dimensions), from the file's header: the
  // decompressor may hold a splice's.
  if (denom != 1 && denom != 2 && denom != 4 && denom != 8) throw InvalidArgument(concat("bad DCT scale 1/", denom));
  width = (header_.width + denom - 1) / denom;
  height = (header_.height + denom - 1) / denom;
}

namespace {
std::atomic<bool> splicing{true};
}  // namespace

SpliceOrigin JpegReader::load_source(int denom, int margin, int& x0, int& x1, int& y0, int& y1) {
  State* s = state_.get();
  SpliceOrigin origin;
  bool spliced = false;
  if (grid_.interval > 0 && splicing.load(std::memory_order_relaxed)) {
    spliced = splice_region(data_, layout_, grid_, header_.width, header_.height, x0 * denom, x1 * denom, y0 * denom,
                            y1 * denom, margin, splice_, origin);
  }
  s->runway = spliced ? static_cast<long>(kRestartRunway) : 0;
  if (spliced) {
    if (!c_read_header(s, splice_.data(), splice_.size()))
      throw DecodeError(std::string("corrupt JPEG: ") + s->message);
    reset_leftover_tables(s, layout_);  // the splice carries the file's DQT and DHT segments
  } else if (spliced_) {
    if (!c_read_header(s, data_, size_)) throw DecodeError(std::string("invalid JPEG: ") + s->message);
    reset_leftover_tables(s, layout_);
  }
  spliced_ = spliced;
  origin.x /= denom;
  origin.y /= denom;
  x0 -= origin.x;
  x1 -= origin.x;
  y0 -= origin.y;
  y1 -= origin.y;
  return origin;
}

DecodedRegion JpegReader::decode(int denom, PixelFormat mode, int x0, int x1, int y0, int y1,
                                 std::vector<std::uint8_t>& buffer, RowLayout layout) {
  State* s = state_.get();
  const int out_channels = channels_of(mode);
  int full_width = 0, full_height = 0;
  scaled_size(denom, full_width, full_height);
  // libjpeg treats the edges of a cropped region like image edges when it upsamples chroma, so the
  // outermost columns differ from a full decode; decoding a few columns more keeps [x0, x1) exact.
  constexpr int kEdge = 16;
  DecodeArgs a{};
  a.denom = denom;
  a.fast_dct = fast_dct_;
  a.x0 = std::max(0, x0 - kEdge);
  a.x1 = std::min(full_width, x1 + kEdge);
  a.y0 = y0;
  a.y1 = y1;
  const SpliceOrigin origin = load_source(denom, 1, a.x0, a.x1, a.y0, a.y1);
  full_width -= origin.x;
  if (header_.cmyk) {
    a.space = JCS_CMYK;
    a.channels = 4;
  } else if (mode == PixelFormat::L && header_.components == 3) {
    // Pillow's convert("L") of the RGB image, not libjpeg's Y plane (they differ where chroma is
    // subsampled): decode RGB, then reduce it in place below.
    a.space = JCS_RGB;
    a.channels = 3;
  } else {
    a.space = mode == PixelFormat::L ? JCS_GRAYSCALE : mode == PixelFormat::RGB ? JCS_RGB : JCS_EXT_RGBA;
    a.channels = out_channels;
  }
  const std::size_t rows = static_cast<std::size_t>(y1 - y0);
  const std::size_t raw_bytes = rows * static_cast<std::size_t>(full_width) * static_cast<std::size_t>(a.channels);
  // CMYK is decoded after the RGB area so the conversion can run in place from back to front.
  const std::size_t rgb_bytes = rows * static_cast<std::size_t>(full_width) * static_cast<std::size_t>(out_channels);
  std::uint8_t* base = nullptr;
  a.cached = layout == RowLayout::Cached && !header_.cmyk && a.channels == out_channels;
  if (a.cached) {
    // Room for rows of the whole width: jpeg_crop_scanline may widen the region, never past it.
    const std::size_t stride =
        cached_stride(static_cast<std::size_t>(full_width) * static_cast<std::size_t>(a.channels));
    buffer.resize(rows * stride + kLine + kRowStart);
    const auto start = reinterpret_cast<std::uintptr_t>(buffer.data());
    base = buffer.data() + ((start + kLine - 1) / kLine * kLine - start) + kRowStart;
    a.buffer = base;
  } else {
    buffer.resize(header_.cmyk ? rgb_bytes + raw_bytes : raw_bytes);
    base = buffer.data();
    a.buffer = base + (header_.cmyk ? rgb_bytes : 0);
  }
  if (!c_decode(s, &a)) throw DecodeError(std::string("corrupt JPEG: ") + s->message);

  const std::size_t pixels = rows * static_cast<std::size_t>(a.out_width);
  if (header_.cmyk) {
    const bool inverted = s->cinfo.saw_Adobe_marker != 0;
    cmyk_to_rgb(a.buffer, buffer.data(), pixels, inverted, out_channels);
  } else if (a.channels == 3 && out_channels == 1) {
    std::uint8_t* p = buffer.data();
    for (std::size_t i = 0; i < pixels; ++i) p[i] = pillow_luma(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
  }
  DecodedRegion r;
  // Packed output is converted in place: its rows end up out_width * out_channels apart.
  const std::size_t stride = a.cached ? a.stride : static_cast<std::size_t>(a.out_width) * out_channels;
  r.view = {base, a.out_width, static_cast<int>(rows), out_channels, static_cast<std::ptrdiff_t>(stride)};
  r.x0 = a.out_x0 + origin.x;
  r.y0 = y0;
  return r;
}

DecodedPlanes JpegReader::decode_planes(int denom, int x0, int x1, int y0, int y1, std::vector<std::uint8_t>& buffer) {
  State* s = state_.get();
  PlanesArgs a{};
  a.denom = denom;
  a.fast_dct = fast_dct_;
  a.x0 = x0;
  a.x1 = x1;
  a.y0 = y0;
  a.y1 = y1;
  a.buffer = &buffer;
  const SpliceOrigin origin = load_source(denom, 0, a.x0, a.x1, a.y0, a.y1);
  if (!c_decode_planes(s, &a)) throw DecodeError(std::string("corrupt JPEG: ") + s->message);
  DecodedPlanes out;
  std::size_t offset = 0;
  for (int p = 0; p < 3; ++p) {
    const int rows = std::min(a.rows[p], a.height[p]);
    out.planes[p] = {buffer.data() + offset, a.width[p], rows, 1, static_cast<std::ptrdiff_t>(a.stride[p])};
    offset += static_cast<std::size_t>(a.stride[p]) * static_cast<std::size_t>(a.rows[p]);
    // Scaled image pixels per plane sample: (max factor x smallest block) / (own factor x own block).
    out.scale_x[p] = static_cast<double>(a.max_h * a.min_dct) / (a.samp_h[p] * a.dct[p]);
    out.scale_y[p] = static_cast<double>(a.max_v * a.min_dct) / (a.samp_v[p] * a.dct[p]);
  }
  out.x0 = a.out_x0 + origin.x;
  out.y0 = a.out_y0 + origin.y;
  return out;
}

JpegReader& thread_jpeg_reader() {
  thread_local JpegReader reader;
  return reader;
}

}  // namespace fastimg::detail

namespace fastimg {

void set_restart_splicing(bool enabled) { detail::splicing.store(enabled); }

}  // namespace fastimg
