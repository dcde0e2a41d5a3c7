// Bindings of the runtime: error classes, thread control, build information.

#include <cerrno>
#include <cstring>

#include <gif_lib.h>
#include <png.h>
#include <tiffio.h>
#include <webp/decode.h>

#include <opencv2/core/version.hpp>
#include <string>

// clang-format off
#include <cstdio>
#include <jconfig.h>
// clang-format on

#define FASTIMG_STR2(x) #x
#define FASTIMG_STR(x) FASTIMG_STR2(x)
#define LIBJPEG_TURBO_VERSION_STRING FASTIMG_STR(LIBJPEG_TURBO_VERSION)

#include "array_views.hpp"
#include "errors.hpp"
#include "fastimg/parallel.hpp"
#include "native_call.hpp"

namespace fastimg::bind {

namespace {
// fastimg._core.DecodeError, set at import; borrowed (the module owns it), so nothing is released at exit.
py::handle decode_error_type;
}  // namespace

py::object python_error(ItemError::Kind kind, int error_number, const std::string& message, const std::string& path) {
  switch (kind) {
    case ItemError::Kind::Io: {
      const int code = error_number != 0 ? error_number : EIO;
      return py::reinterpret_borrow<py::object>(PyExc_OSError)(code, std::strerror(code), path);
    }
    case ItemError::Kind::Invalid: return py::reinterpret_borrow<py::object>(PyExc_ValueError)(message);
    case ItemError::Kind::Decode: break;
  }
  return py::reinterpret_borrow<py::object>(decode_error_type)(message);
}

py::list errors_to_python(const std::vector<ItemError>& errors) {
  py::list out;
  for (const ItemError& e : errors) {
    out.append(py::make_tuple(e.position, e.message, python_error(e.kind, e.error_number, e.message, e.path)));
  }
  return out;
}

void register_runtime(py::module_& m) {
  static py::exception<DecodeError> decode_error(m, "DecodeError", PyExc_ValueError);
  decode_error.attr("__doc__") =
      "Raised for content that cannot be decoded (empty, truncated, corrupt, not an image, an unsupported "
      "variant, over a safety limit); a ValueError. The message names the source and the reason; "
      "load_batch also sets the attributes index and source.";
  decode_error_type = decode_error;
  py::register_exception_translator([](std::exception_ptr p) {
    auto raise = [](const py::object& error) {
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
    };
    try {
      if (p) std::rethrow_exception(p);
    } catch (const DecodeError& e) {
      raise(python_error(ItemError::Kind::Decode, 0, e.what(), {}));
    } catch (const InvalidArgument& e) {
      raise(python_error(ItemError::Kind::Invalid, 0, e.what(), {}));
    } catch (const IoError& e) {
      raise(python_error(ItemError::Kind::Io, e.error_number(), e.what(), e.path()));
    }
  });

  // Runs before finalization (after non-daemon threads were joined): see native_call.hpp.
  py::module_::import("atexit").attr("register")(py::cpp_function(&finish_native_calls));

  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &get_num_threads);
  m.def("build_info", [] {
    py::dict info;
    info["opencv"] = CV_VERSION;
    info["parallel"] = "fastimg worker teams (pthreads; OpenCV routed through them)";
    info["libjpeg_turbo"] = LIBJPEG_TURBO_VERSION_STRING;
    info["libpng"] = PNG_LIBPNG_VER_STRING;
    const int webp = WebPGetDecoderVersion();
    info["libwebp"] = detail::concat(webp >> 16, ".", (webp >> 8) & 0xFF, ".", webp & 0xFF);
    info["giflib"] = detail::concat(GIFLIB_MAJOR, ".", GIFLIB_MINOR, ".", GIFLIB_RELEASE);
    const std::string tiff = TIFFGetVersion();
    info["libtiff"] = tiff.substr(0, tiff.find('\n'));
    return info;
  });
}

}  // namespace fastimg::bind
