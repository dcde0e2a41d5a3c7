// Bindings of encoding (the shard writer's re-encode).
#include <pybind11/numpy.h>

#include "array_views.hpp"
#include "fastimg/encode.hpp"
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
}

}  // namespace fastimg::bind
