// numpy arrays <-> core views. Checks run with the GIL held; the views stay valid while the caller keeps
// the arrays alive (the argument lists do, for the whole call).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "fastimg/errors.hpp"
#include "fastimg/image_view.hpp"

namespace fastimg::bind {

namespace py = pybind11;

// Accepts a uint8 array (H, W) or (H, W, C) whose pixels are packed within each row; rows may be
// strided (a slice of a larger image). Throws InvalidArgument naming `role` and `index` otherwise.
inline ImageView view_of(const py::handle& obj, const char* role, std::size_t index, bool writable) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(detail::concat(role, " ", index, ": expected a numpy array, got ",
                                        std::string(py::str(py::type::of(obj).attr("__name__")))));
  }
  auto a = py::reinterpret_borrow<py::array>(obj);
  // Equality, not identity: arrays that came through pickle (other processes, DataLoader workers) carry
  // an equal but distinct dtype object.
  if (a.dtype().kind() != 'u' || a.dtype().itemsize() != 1) {
    throw py::type_error(
        detail::concat(role, " ", index, ": expected dtype uint8, got ", std::string(py::str(a.dtype()))));
  }
  FASTIMG_CHECK(a.ndim() == 2 || a.ndim() == 3, role, " ", index, ": expected 2 or 3 dimensions, got ", a.ndim());
  const int channels = a.ndim() == 3 ? static_cast<int>(a.shape(2)) : 1;
  FASTIMG_CHECK(a.ndim() == 2 || a.strides(2) == 1, role, " ", index, ": channels must be contiguous");
  FASTIMG_CHECK(a.strides(1) == channels, role, " ", index, ": pixels must be packed within a row");
  FASTIMG_CHECK(a.strides(0) > 0, role, " ", index, ": rows must have a positive stride");
  if (writable) FASTIMG_CHECK(a.writeable(), role, " ", index, ": array is read-only");
  ImageView v;
  v.data = static_cast<std::uint8_t*>(const_cast<void*>(a.data()));
  v.height = static_cast<int>(a.shape(0));
  v.width = static_cast<int>(a.shape(1));
  v.channels = channels;
  v.stride = a.strides(0);
  FASTIMG_CHECK(a.shape(0) < (1 << 30) && a.shape(1) < (1 << 30), role, " ", index, ": image too large");
  return v;
}

inline std::vector<ConstImageView> inputs_of(const py::sequence& seq) {
  std::vector<ConstImageView> views;
  views.reserve(seq.size());
  for (std::size_t i = 0; i < seq.size(); ++i) views.push_back(view_of(seq[i], "image", i, false));
  return views;
}

inline std::vector<ImageView> outputs_of(const py::sequence& seq) {
  std::vector<ImageView> views;
  views.reserve(seq.size());
  for (std::size_t i = 0; i < seq.size(); ++i) views.push_back(view_of(seq[i], "output", i, true));
  return views;
}

}  // namespace fastimg::bind
