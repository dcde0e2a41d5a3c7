// fastimg._core: the native extension. Each topic registers itself; this file only wires them.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace fastimg::bind {
void register_runtime(py::module_& m);
void register_ops(py::module_& m);
void register_decode_options(py::module_& m);
void register_transform(py::module_& m);
void register_decode(py::module_& m);
void register_encode(py::module_& m);
void register_tar(py::module_& m);
void register_testing(py::module_& m);
}  // namespace fastimg::bind

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastimg native core (C++: own worker threads, OpenCV, libjpeg-turbo)";
  fastimg::bind::register_runtime(m);
  fastimg::bind::register_ops(m);
  // Types before the functions whose signatures name them (pybind11 writes signatures at definition).
  fastimg::bind::register_decode_options(m);
  fastimg::bind::register_transform(m);
  fastimg::bind::register_decode(m);
  fastimg::bind::register_encode(m);
  fastimg::bind::register_tar(m);
  fastimg::bind::register_testing(m);
}
