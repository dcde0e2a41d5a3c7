// fastimg._core: the native extension. Each topic registers itself; this file only wires them.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace fastimg::bind {
void register_runtime(py::module_& m);
void register_ops(py::module_& m);
void register_decode(py::module_& m);
void register_encode(py::module_& m);
}  // namespace fastimg::bind

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastimg native core (C++: OpenMP, OpenCV, libjpeg-turbo)";
  fastimg::bind::register_runtime(m);
  fastimg::bind::register_ops(m);
  fastimg::bind::register_decode(m);
  fastimg::bind::register_encode(m);
}
