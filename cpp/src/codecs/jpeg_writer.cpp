#include "fastimg/encode.hpp"

// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on

#include <csetjmp>
#include <cstdlib>
#include <string>

#include "fastimg/errors.hpp"

namespace fastimg {

namespace {

// Everything libjpeg touches lives in this plain struct, so the longjmp out of an error never skips a
// C++ destructor.
struct Encoder {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
  unsigned char* out = nullptr;
  unsigned long size = 0;
};

[[noreturn]] void on_error_exit(j_common_ptr c) {
  auto* e = static_cast<Encoder*>(c->client_data);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

bool compress(Encoder* e, const ConstImageView& image, int quality) {
  e->cinfo.err = jpeg_std_error(&e->err);
  e->err.error_exit = on_error_exit;
  e->cinfo.client_data = e;
  if (setjmp(e->jump)) return false;
  jpeg_create_compress(&e->cinfo);
  jpeg_mem_dest(&e->cinfo, &e->out, &e->size);
  e->cinfo.image_width = static_cast<JDIMENSION>(image.width);
  e->cinfo.image_height = static_cast<JDIMENSION>(image.height);
  e->cinfo.input_components = image.channels;
  e->cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&e->cinfo);
  jpeg_set_quality(&e->cinfo, quality, TRUE);
  e->cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_compress(&e->cinfo, TRUE);
  while (e->cinfo.next_scanline < e->cinfo.image_height) {
    JSAMPROW row = const_cast<std::uint8_t*>(image.row(static_cast<int>(e->cinfo.next_scanline)));
    jpeg_write_scanlines(&e->cinfo, &row, 1);
  }
  jpeg_finish_compress(&e->cinfo);
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode_jpeg(const ConstImageView& image, int quality) {
  check_view(image, "image");
  FASTIMG_CHECK(image.channels == 1 || image.channels == 3, "encode_jpeg: expected 1 or 3 channels, got ",
                image.channels);
  FASTIMG_CHECK(quality >= 1 && quality <= 100, "encode_jpeg: quality must be in 1..100, got ", quality);
  FASTIMG_CHECK(image.width <= JPEG_MAX_DIMENSION && image.height <= JPEG_MAX_DIMENSION,
                "encode_jpeg: JPEG sides are at most ", JPEG_MAX_DIMENSION, ", got ", image.width, "x", image.height);
  Encoder e;
  const bool ok = compress(&e, image, quality);
  jpeg_destroy_compress(&e.cinfo);
  std::vector<std::uint8_t> bytes;
  if (ok) bytes.assign(e.out, e.out + e.size);
  std::free(e.out);
  if (!ok) throw DecodeError(std::string("JPEG encoding failed: ") + e.message);
  return bytes;
}

}  // namespace fastimg
