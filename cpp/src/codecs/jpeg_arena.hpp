// Per-image memory for a reused libjpeg decompressor: its JPOOL_IMAGE requests (sample rows, coefficient
// blocks, tables) come from one block of ours, laid out the same way for every image, in every thread
// and every process.
//
// Why: libjpeg mallocs these afresh for every image (a dozen allocations for a 32-px file), and where they
// land depends on the heap's history. One block is one allocation per decoder, at the same offsets for
// every image: about 2 % on 32-px files. (The larger environment-dependent slowdown once blamed on this was
// libjpeg-turbo's non-temporal stores to aligned output rows: see JpegReader::RowLayout.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on

namespace fastimg::detail {

class JpegArena {
 public:
  JpegArena() = default;
  ~JpegArena();
  JpegArena(const JpegArena&) = delete;
  JpegArena& operator=(const JpegArena&) = delete;

  // How libjpeg's callbacks find the arena of a decompressor (through its client_data); one function
  // for the process, set before any install.
  using Owner = JpegArena* (*)(j_common_ptr);
  static void set_owner(Owner owner);

  // Routes cinfo's JPOOL_IMAGE allocations here (JPOOL_PERMANENT ones and virtual arrays stay with
  // libjpeg). Call right after jpeg_create_decompress.
  void install(j_common_ptr cinfo);

 private:
  static void* alloc_small(j_common_ptr c, int pool, std::size_t size);
  static void* alloc_large(j_common_ptr c, int pool, std::size_t size);
  static JSAMPARRAY alloc_sarray(j_common_ptr c, int pool, JDIMENSION samples, JDIMENSION rows);
  static JBLOCKARRAY alloc_barray(j_common_ptr c, int pool, JDIMENSION blocks, JDIMENSION rows);
  static void free_pool(j_common_ptr c, int pool);

  // `size` bytes, 64-byte aligned; raises libjpeg's out-of-memory error when it cannot.
  void* take(j_common_ptr c, std::size_t size);

  struct Block {
    std::uint8_t* data;
    std::size_t size;
  };
  std::vector<Block> blocks_;  // the image's memory; the first is sized to the largest image seen
  std::size_t used_ = 0;       // in the last block
  std::size_t image_bytes_ = 0;
  jpeg_memory_mgr libjpeg_{};  // the functions replaced, called for what is not ours
};

}  // namespace fastimg::detail
