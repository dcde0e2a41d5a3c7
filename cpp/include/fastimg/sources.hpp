// Where encoded images come from, and how one item's failure is recorded without stopping a batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fastimg {

// Either bytes in memory (data/size, owned by the caller for the whole call) or a file path, read by the
// worker thread that decodes it (so reads overlap decoding and run in parallel) with the source's own read
// options.
struct Source {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::string path;
  bool direct_io = false;  // O_DIRECT, falling back to buffered reads where the file system refuses it
  // Where set, a file's bytes are read into *keep and left there for the caller (a cache insertion), instead
  // of into a per-thread buffer.
  std::vector<std::uint8_t>* keep = nullptr;
};

struct ItemError {
  enum class Kind { Decode, Io, Invalid };
  std::size_t position = 0;  // position in the batch
  Kind kind = Kind::Decode;
  int error_number = 0;  // errno for Io
  std::string message;   // for Io, the system's message alone: `path` names the file
  std::string path;      // the file, for Io
};

// Calls fn(bytes, size) with the source's encoded bytes (for files: a per-thread buffer valid during fn, or
// source.keep).
// Throws DecodeError when the source holds more than max_bytes (a file is refused before it is read).
void with_source_bytes(const Source& source, std::size_t max_bytes,
                       const std::function<void(const std::uint8_t*, std::size_t)>& fn);

// Runs fn for every position on `threads` threads; each failure becomes an ItemError (sorted by
// position). With stop_on_error, items not yet started after a failure are skipped.
std::vector<ItemError> run_items(std::size_t count, int threads, bool stop_on_error,
                                 const std::function<void(std::size_t)>& fn);

}  // namespace fastimg
