#include "jpeg_arena.hpp"

#include <jerror.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>

namespace fastimg::detail {
namespace {

constexpr std::size_t kAlign = 64;  // libjpeg-turbo's SIMD kernels want 32; a cache line keeps rows apart
constexpr std::size_t kMinBlock = 64 << 10;

std::atomic<JpegArena::Owner> g_owner{nullptr};

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

[[noreturn]] void fail(j_common_ptr c, int code) {
  ERREXIT1(c, code, 0);
  std::abort();  // error_exit does not return
}

// rows * row_bytes plus the row pointers, or fail with libjpeg's overflow error.
std::size_t array_bytes(j_common_ptr c, std::size_t row_bytes, std::size_t rows, std::size_t pointer_bytes) {
  const std::size_t max = std::numeric_limits<std::size_t>::max() / 4;
  if (rows != 0 && row_bytes > max / rows) fail(c, JERR_WIDTH_OVERFLOW);
  return round_up(pointer_bytes * rows, kAlign) + row_bytes * rows;
}

}  // namespace

JpegArena::~JpegArena() {
  for (const Block& b : blocks_) std::free(b.data);
}

void JpegArena::set_owner(Owner owner) { g_owner.store(owner); }

void JpegArena::install(j_common_ptr cinfo) {
  libjpeg_ = *cinfo->mem;
  cinfo->mem->alloc_small = &JpegArena::alloc_small;
  cinfo->mem->alloc_large = &JpegArena::alloc_large;
  cinfo->mem->alloc_sarray = &JpegArena::alloc_sarray;
  cinfo->mem->alloc_barray = &JpegArena::alloc_barray;
  cinfo->mem->free_pool = &JpegArena::free_pool;
}

void* JpegArena::take(j_common_ptr c, std::size_t size) {
  size = round_up(std::max<std::size_t>(size, 1), kAlign);
  if (blocks_.empty() || blocks_.back().size - used_ < size) {
    // Page-aligned, so the layout modulo 4 KiB is the same wherever the block lands.
    const std::size_t bytes = round_up(std::max(size, kMinBlock), 4096);
    void* data = std::aligned_alloc(4096, bytes);
    if (data == nullptr) fail(c, JERR_OUT_OF_MEMORY);
    blocks_.push_back({static_cast<std::uint8_t*>(data), bytes});
    used_ = 0;
  }
  void* p = blocks_.back().data + used_;
  used_ += size;
  image_bytes_ += size;
  return p;
}

void* JpegArena::alloc_small(j_common_ptr c, int pool, std::size_t size) {
  JpegArena* a = g_owner.load()(c);
  if (pool != JPOOL_IMAGE) return a->libjpeg_.alloc_small(c, pool, size);
  return a->take(c, size);
}

void* JpegArena::alloc_large(j_common_ptr c, int pool, std::size_t size) {
  JpegArena* a = g_owner.load()(c);
  if (pool != JPOOL_IMAGE) return a->libjpeg_.alloc_large(c, pool, size);
  return a->take(c, size);
}

JSAMPARRAY JpegArena::alloc_sarray(j_common_ptr c, int pool, JDIMENSION samples, JDIMENSION rows) {
  JpegArena* a = g_owner.load()(c);
  if (pool != JPOOL_IMAGE) return a->libjpeg_.alloc_sarray(c, pool, samples, rows);
  const std::size_t row_bytes = round_up(static_cast<std::size_t>(samples) * sizeof(JSAMPLE), kAlign);
  auto* base = static_cast<std::uint8_t*>(a->take(c, array_bytes(c, row_bytes, rows, sizeof(JSAMPROW))));
  auto* result = reinterpret_cast<JSAMPARRAY>(base);
  std::uint8_t* row = base + round_up(sizeof(JSAMPROW) * rows, kAlign);
  for (JDIMENSION r = 0; r < rows; ++r, row += row_bytes) result[r] = reinterpret_cast<JSAMPROW>(row);
  return result;
}

JBLOCKARRAY JpegArena::alloc_barray(j_common_ptr c, int pool, JDIMENSION blocks, JDIMENSION rows) {
  JpegArena* a = g_owner.load()(c);
  if (pool != JPOOL_IMAGE) return a->libjpeg_.alloc_barray(c, pool, blocks, rows);
  const std::size_t row_bytes = static_cast<std::size_t>(blocks) * sizeof(JBLOCK);
  auto* base = static_cast<std::uint8_t*>(a->take(c, array_bytes(c, row_bytes, rows, sizeof(JBLOCKROW))));
  auto* result = reinterpret_cast<JBLOCKARRAY>(base);
  std::uint8_t* row = base + round_up(sizeof(JBLOCKROW) * rows, kAlign);
  for (JDIMENSION r = 0; r < rows; ++r, row += row_bytes) result[r] = reinterpret_cast<JBLOCKROW>(row);
  return result;
}

void JpegArena::free_pool(j_common_ptr c, int pool) {
  JpegArena* a = g_owner.load()(c);
  a->libjpeg_.free_pool(c, pool);
  if (pool != JPOOL_IMAGE) return;
  // Next image: one block as large as this image needed (several blocks only while an image grows it).
  if (a->blocks_.size() > 1) {
    const std::size_t bytes = round_up(a->image_bytes_, 4096);
    for (const Block& b : a->blocks_) std::free(b.data);
    a->blocks_.clear();
    if (void* data = std::aligned_alloc(4096, bytes)) a->blocks_.push_back({static_cast<std::uint8_t*>(data), bytes});
  }
  a->used_ = 0;
  a->image_bytes_ = 0;
}

}  // namespace fastimg::detail
