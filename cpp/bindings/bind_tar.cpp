// Bindings of the tar header parser for the shard reader (src/fastimg/shards/tar.py).

#include <pybind11/pybind11.h>

#include "fastimg/tar.hpp"
#include "native_call.hpp"

namespace py = pybind11;

namespace fastimg::bind {
namespace {

// Member names are bytes; Python's tarfile and our reader decode them as UTF-8 with surrogateescape, so
// any name round-trips.
py::str name_text(const std::string& name) {
  PyObject* text = PyUnicode_DecodeUTF8(name.data(), static_cast<Py_ssize_t>(name.size()), "surrogateescape");
  if (text == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(text);
}

py::str kind_text(char kind) {
  return py::reinterpret_steal<py::str>(PyUnicode_FromOrdinal(static_cast<unsigned char>(kind)));
}

py::tuple index_result(const TarIndex& index) {
  py::list entries(index.entries.size());
  for (std::size_t i = 0; i < index.entries.size(); ++i) {
    const TarEntry& e = index.entries[i];
    entries[i] = py::make_tuple(name_text(e.header.name), kind_text(e.header.kind), e.data_offset, e.header.size);
  }
  return py::make_tuple(entries, index.damage.empty() ? py::object(py::none()) : py::str(index.damage));
}

py::buffer_info contiguous_bytes(const py::buffer& data) {
  py::buffer_info info = data.request();
  if (info.ndim != 1 || info.itemsize != 1 || (info.ndim == 1 && info.strides[0] != 1)) {
    throw py::value_error("expected a contiguous bytes-like object");
  }
  return info;
}

}  // namespace

void register_tar(py::module_& m) {
  m.def(
      "tar_header",
      [](const py::buffer& block, std::uint64_t offset) -> py::object {
        const py::buffer_info info = contiguous_bytes(block);
        if (info.size != static_cast<py::ssize_t>(kTarBlock)) throw py::value_error("a tar header is 512 bytes");
        TarHeader header;
        const TarHeaderStatus status = parse_tar_header(static_cast<const std::uint8_t*>(info.ptr), &header);
        if (status == TarHeaderStatus::End) return py::none();
        if (status != TarHeaderStatus::Ok) return py::str(tar_header_damage(status, offset));
        return py::make_tuple(name_text(header.name), kind_text(header.kind), header.size);
      },
      py::arg("block"), py::arg("offset"),
      "One 512-byte tar header at byte `offset` of its archive: (name, kind, size); None for the end block; "
      "a str saying why for a damaged header.");
  m.def(
      "tar_index_file",
      [](int fd, std::uint64_t size) {
        TarIndex index;
        {
          NativeCall release;
          index = index_tar_file(fd, size);
        }
        return index_result(index);
      },
      py::arg("fd"), py::arg("size"),
      "Every header of the tar archive in the first `size` bytes of the open file `fd`, read with pread (no "
      "page of a mapping touched per member): ([(name, kind, data_offset, size)], damage), damage None or why "
      "the headers stop early. A member cut short by the end of the file is the last entry.");
}

}  // namespace fastimg::bind
