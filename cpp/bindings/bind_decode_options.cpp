// Bindings of the decode options: the pixel format, the safety limits and DecodeOptions. Registered
// before the transform spec and the functions whose signatures hold them, so stubs name the Python types.
#include <pybind11/pybind11.h>

#include "fastimg/decode.hpp"

namespace py = pybind11;

namespace fastimg::bind {

void register_decode_options(py::module_& m) {
  // Every default below is read from a default-constructed struct: the C++ headers stay the one place
  // that writes them.
  const DecodeLimits limits;
  m.attr("DEFAULT_MAX_PIXELS") = limits.max_pixels;
  m.attr("DEFAULT_MAX_SCANS") = limits.max_scans;
  m.attr("DEFAULT_MAX_BYTES") = limits.max_bytes;

  py::enum_<PixelFormat>(m, "PixelFormat")
      .value("RGB", PixelFormat::RGB)
      .value("L", PixelFormat::L)
      .value("RGBA", PixelFormat::RGBA);

  py::class_<DecodeLimits>(m, "DecodeLimits",
                           "Safety limits per image: max_pixels (stored width * height, checked from the header), "
                           "max_scans (progressive JPEG scans), max_bytes (encoded bytes per file or buffer), "
                           "strict (False: deliver JPEGs with recoverable damage inside a scan, with a warning).")
      .def(py::init([](std::int64_t max_pixels, int max_scans, std::size_t max_bytes, bool strict) {
             DecodeLimits l;
             l.max_pixels = max_pixels;
             l.max_scans = max_scans;
             l.max_bytes = max_bytes;
             l.strict = strict;
             return l;
           }),
           py::kw_only(), py::arg("max_pixels") = limits.max_pixels, py::arg("max_scans") = limits.max_scans,
           py::arg("max_bytes") = limits.max_bytes, py::arg("strict") = limits.strict)
      .def_readwrite("max_pixels", &DecodeLimits::max_pixels)
      .def_readwrite("max_scans", &DecodeLimits::max_scans)
      .def_readwrite("max_bytes", &DecodeLimits::max_bytes)
      .def_readwrite("strict", &DecodeLimits::strict);

  const DecodeOptions options;
  py::class_<DecodeOptions>(m, "DecodeOptions",
                            "What decode_images produces: mode, min_width/min_height (> 0: the decoder may shrink "
                            "while staying at least this large), max_side (> 0: bound on the longer side), "
                            "apply_exif_orientation, limits.")
      .def(py::init([](PixelFormat mode, int min_width, int min_height, int max_side, bool apply_exif_orientation,
                       const DecodeLimits& limits) {
             DecodeOptions o;
             o.mode = mode;
             o.min_width = min_width;
             o.min_height = min_height;
             o.max_side = max_side;
             o.apply_exif_orientation = apply_exif_orientation;
             o.limits = limits;
             return o;
           }),
           py::kw_only(), py::arg("mode") = options.mode, py::arg("min_width") = options.min_width,
           py::arg("min_height") = options.min_height, py::arg("max_side") = options.max_side,
           py::arg("apply_exif_orientation") = options.apply_exif_orientation,
           py::arg_v("limits", options.limits, "DecodeLimits()"))
      .def_readwrite("mode", &DecodeOptions::mode)
      .def_readwrite("min_width", &DecodeOptions::min_width)
      .def_readwrite("min_height", &DecodeOptions::min_height)
      .def_readwrite("max_side", &DecodeOptions::max_side)
      .def_readwrite("apply_exif_orientation", &DecodeOptions::apply_exif_orientation)
      .def_readwrite("limits", &DecodeOptions::limits);
}

}  // namespace fastimg::bind
