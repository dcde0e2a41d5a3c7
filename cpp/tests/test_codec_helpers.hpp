// Test helpers: encode images to JPEG (libjpeg) and PNG (libpng's simplified API) in memory.
#pragma once

// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on

#include <png.h>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "test_images.hpp"

namespace fastimg::test {

// What encode_jpeg can vary beyond the quality: libjpeg's defaults unless set.
struct JpegOptions {
  int quality = 95;
  bool progressive = false;
  std::vector<std::uint8_t> app1;  // written as an APP1 segment when not empty
  int luma_h = 0, luma_v = 0;      // luma sampling factors (chroma 1x1); 0: libjpeg's 2x2
  int restart_interval = 0;        // MCUs per restart interval; 0: none
  bool approximate_ac = false;     // a progressive script that never refines the AC coefficients' last bit
};

inline std::vector<std::uint8_t> encode_jpeg_with(const Image& img, const JpegOptions& o) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = static_cast<JDIMENSION>(img.width);
  c.image_height = static_cast<JDIMENSION>(img.height);
  c.input_components = img.channels;
  c.in_color_space = img.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, o.quality, TRUE);
  if (o.luma_h > 0) {
    c.comp_info[0].h_samp_factor = o.luma_h;
    c.comp_info[0].v_samp_factor = o.luma_v;
  }
  c.restart_interval = static_cast<unsigned>(o.restart_interval);
  if (o.progressive) jpeg_simple_progression(&c);
  std::vector<jpeg_scan_info> scans;
  if (o.approximate_ac) {
    scans.push_back({c.num_components, {0, 1, 2, 3}, 0, 0, 0, 0});
    for (int ci = 0; ci < c.num_components; ++ci) scans.push_back({1, {ci, 0, 0, 0}, 1, 63, 0, 1});
    c.scan_info = scans.data();
    c.num_scans = static_cast<int>(scans.size());
  }
  jpeg_start_compress(&c, TRUE);
  if (!o.app1.empty()) jpeg_write_marker(&c, JPEG_APP0 + 1, o.app1.data(), static_cast<unsigned>(o.app1.size()));
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<std::uint8_t*>(img.pixels.data()) + c.next_scanline * img.stride;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::vector<std::uint8_t> bytes(out, out + size);
  jpeg_destroy_compress(&c);
  free(out);
  return bytes;
}

inline std::vector<std::uint8_t> encode_jpeg(const Image& img, int quality = 95, bool progressive = false,
                                             const std::vector<std::uint8_t>& app1 = {}) {
  JpegOptions o;
  o.quality = quality;
  o.progressive = progressive;
  o.app1 = app1;
  return encode_jpeg_with(img, o);
}

inline std::vector<std::uint8_t> encode_png(const Image& img) {
  png_image p{};
  p.version = PNG_IMAGE_VERSION;
  p.width = static_cast<png_uint_32>(img.width);
  p.height = static_cast<png_uint_32>(img.height);
  p.format = img.channels == 1 ? PNG_FORMAT_GRAY : img.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  const auto stride = static_cast<png_int_32>(img.stride);
  png_image_write_to_memory(&p, nullptr, &size, 0, img.pixels.data(), stride, nullptr);
  std::vector<std::uint8_t> out(size);
  if (!png_image_write_to_memory(&p, out.data(), &size, 0, img.pixels.data(), stride, nullptr)) out.clear();
  out.resize(size);
  return out;
}

// An EXIF APP1 payload holding only the orientation tag, in either byte order.
inline std::vector<std::uint8_t> exif_with_orientation(int orientation, bool little_endian = true) {
  std::vector<std::uint8_t> e = {'E', 'x', 'i', 'f', 0, 0};
  auto u16 = [&](unsigned v) {
    if (little_endian) {
      e.push_back(v & 0xFF);
      e.push_back((v >> 8) & 0xFF);
    } else {
      e.push_back((v >> 8) & 0xFF);
      e.push_back(v & 0xFF);
    }
  };
  auto u32 = [&](unsigned v) {
    if (little_endian) {
      u16(v & 0xFFFF);
      u16(v >> 16);
    } else {
      u16(v >> 16);
      u16(v & 0xFFFF);
    }
  };
  e.push_back(little_endian ? 'I' : 'M');
  e.push_back(little_endian ? 'I' : 'M');
  u16(42);
  u32(8);  // IFD0 right after the header
  u16(1);  // one entry
  u16(0x0112);
  u16(3);  // SHORT
  u32(1);
  u16(static_cast<unsigned>(orientation));
  u16(0);
  u32(0);  // no next IFD
  return e;
}

}  // namespace fastimg::test
