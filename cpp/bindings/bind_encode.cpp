// Bindings of encoding (the shard writer's re-encode).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <optional>

#include "array_views.hpp"
#include "fastimg/decode.hpp"
#include "fastimg/encode.hpp"
#include "fastimg/prepare.hpp"
#include "native_call.hpp"

namespace fastimg::bind {

void register_encode(py::module_& m) {
  m.def(
      "encode_jpeg",
      [](const py::array& image, int quality) {
        const ImageView view = view_of(image, "image", 0, false);
        std::vector<std::uint8_t> bytes;
        {
          NativeCall release;
          bytes = encode_jpeg(view, quality);
        }
        return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      },
      py::arg("image"), py::arg("quality") = 90,
      "Encode a uint8 (H, W) grey or (H, W, 3) RGB array (rows may be strided) as a baseline JPEG at quality "
      "1..100 (4:2:0 for RGB); returns bytes. ValueError for other shapes or qualities.");
  m.def(
      "prepare_jpeg",
      [](const py::buffer& data, int interval, const std::optional<DecodeLimits>& limits) {
        const py::buffer_info info = data.request();
        if (info.ndim != 1 || info.itemsize != 1 || info.strides[0] != 1) {
          throw py::value_error("expected a contiguous bytes-like object");
        }
        PreparedJpeg result;
        {
          NativeCall release;
          result = prepare_jpeg(static_cast<const std::uint8_t*>(info.ptr), static_cast<std::size_t>(info.size),
                                interval, limits.value_or(DecodeLimits{}));
        }
        const char* outcome = result.outcome == PreparedJpeg::Outcome::Prepared          ? "prepared"
                              : result.outcome == PreparedJpeg::Outcome::AlreadyPrepared ? "already prepared"
                                                                                         : "not a JPEG";
        py::object bytes = py::none();
        if (result.outcome == PreparedJpeg::Outcome::Prepared) {
          bytes = py::bytes(reinterpret_cast<const char*>(result.bytes.data()), result.bytes.size());
        }
        return py::make_tuple(outcome, bytes, result.interval);
      },
      py::arg("data"), py::arg("interval") = 0, py::arg("limits") = py::none(),
      "Rewrite a JPEG losslessly with restart markers (fastimg/prepare.hpp): (outcome, bytes or None, "
      "interval), outcome 'prepared', 'already prepared' or 'not a JPEG'. DecodeError for an unreadable JPEG.");
  m.def("set_restart_splicing", &set_restart_splicing, py::arg("enabled"),
        "Whether JPEG crops decode only the restart intervals covering them (default True; same pixels).");
}

}  // namespace fastimg::bind
