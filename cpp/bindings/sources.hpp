// Python sources -> core Sources: str paths (read by the workers) or objects exposing a byte buffer
// (bytes, bytearray, memoryview, 1-D uint8 arrays), held for the whole call so the GIL can be released.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

#include "fastimg/errors.hpp"
#include "fastimg/sources.hpp"

namespace fastimg::bind {

namespace py = pybind11;

// How the workers read path sources: with O_DIRECT, and whether each file's bytes come back to Python (for
// a cache) instead of living in a per-thread buffer.
struct ReadOptions {
  bool direct_io = false;
  bool keep_files = false;
};

struct HeldSources {
  std::vector<Source> sources;
  std::vector<py::buffer_info> buffers;         // keep exported buffers alive (a bytearray cannot resize meanwhile)
  std::vector<std::vector<std::uint8_t>> kept;  // per position, with ReadOptions::keep_files
};

inline HeldSources hold_sources(const py::sequence& items, const ReadOptions& read = {}) {
  HeldSources held;
  held.sources.resize(items.size());
  held.buffers.reserve(items.size());
  if (read.keep_files) held.kept.resize(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    py::object item = items[i];
    if (py::isinstance<py::str>(item)) {
      py::object encoded = py::reinterpret_steal<py::object>(PyUnicode_EncodeFSDefault(item.ptr()));
      if (!encoded) throw py::error_already_set();
      held.sources[i].path = encoded.cast<std::string>();
      held.sources[i].direct_io = read.direct_io;
      if (read.keep_files) held.sources[i].keep = &held.kept[i];
      continue;
    }
    if (!PyObject_CheckBuffer(item.ptr())) {
      throw py::type_error(detail::concat("source ", i, ": expected a path or bytes-like object, got ",
                                          std::string(py::str(py::type::of(item).attr("__name__")))));
    }
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(item).request();
    const bool contiguous = info.ndim <= 1 && (info.ndim == 0 || info.strides[0] == info.itemsize);
    if (info.itemsize != 1 || !contiguous) {
      throw py::type_error(detail::concat("source ", i, ": a buffer of encoded bytes must be 1-D, contiguous and ",
                                          "byte-sized, got format '", info.format, "' with ", info.ndim,
                                          " dimensions"));
    }
    held.sources[i].data = static_cast<const std::uint8_t*>(info.ptr);
    held.sources[i].size = static_cast<std::size_t>(info.size);
    held.buffers.push_back(std::move(info));
  }
  return held;
}

// The bytes of each file read for a path source (None for in-memory sources and files not read), after a
// call with ReadOptions::keep_files; the GIL must be held.
inline py::list kept_files(HeldSources& held) {
  py::list out;
  for (std::size_t i = 0; i < held.kept.size(); ++i) {
    std::vector<std::uint8_t>& bytes = held.kept[i];
    if (held.sources[i].path.empty() || bytes.empty()) {
      out.append(py::none());
    } else {
      out.append(py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    }
    std::vector<std::uint8_t>().swap(bytes);
  }
  return out;
}

}  // namespace fastimg::bind
