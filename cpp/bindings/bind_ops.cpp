// Bindings of the batched numpy operations: marshal, release the GIL, call the core.
#include <pybind11/stl.h>

#include "array_views.hpp"
#include "fastimg/ops.hpp"
#include "native_call.hpp"

namespace fastimg::bind {

namespace {
using Boxes = std::vector<std::pair<int, int>>;

std::vector<Box> boxes_at(const Boxes& origins, const std::vector<ImageView>& dst) {
  FASTIMG_CHECK(origins.size() == dst.size(), "got ", dst.size(), " outputs but ", origins.size(), " boxes");
  std::vector<Box> boxes(origins.size());
  for (std::size_t i = 0; i < origins.size(); ++i) {
    boxes[i] = {origins[i].first, origins[i].second, dst[i].width, dst[i].height};
  }
  return boxes;
}
}  // namespace

void register_ops(py::module_& m) {
  py::enum_<Interpolation>(m, "Interpolation")
      .value("NEAREST", Interpolation::Nearest)
      .value("BILINEAR", Interpolation::Bilinear)
      .value("BICUBIC", Interpolation::Bicubic)
      .value("AREA", Interpolation::Area)
      .value("LANCZOS4", Interpolation::Lanczos4)
      .value("AUTO", Interpolation::Auto);

  m.def(
      "resize",
      [](const py::sequence& images, const py::sequence& outputs, Interpolation mode, int threads) {
        auto src = inputs_of(images);
        auto dst = outputs_of(outputs);
        NativeCall release;
        resize_batch(src, dst, mode, threads);
      },
      py::arg("images"), py::arg("outputs"), py::arg("interpolation"), py::arg("num_threads") = 0,
      "Resize images[i] into outputs[i] (preallocated uint8 arrays of the target size).");

  m.def(
      "crop",
      [](const py::sequence& images, const py::sequence& outputs, const Boxes& origins, int threads) {
        auto src = inputs_of(images);
        auto dst = outputs_of(outputs);
        auto boxes = boxes_at(origins, dst);
        NativeCall release;
        crop_batch(src, dst, boxes, threads);
      },
      py::arg("images"), py::arg("outputs"), py::arg("origins"), py::arg("num_threads") = 0,
      "Copy the region of images[i] at origins[i] = (x, y) with outputs[i]'s size into outputs[i].");

  m.def(
      "random_crop_origins",
      [](const py::sequence& images, const std::vector<std::pair<int, int>>& sizes, std::uint64_t seed) {
        auto src = inputs_of(images);
        std::vector<Box> wanted(sizes.size());
        for (std::size_t i = 0; i < sizes.size(); ++i) wanted[i] = {0, 0, sizes[i].first, sizes[i].second};
        Boxes origins;
        for (const Box& b : random_crop_boxes(src, wanted, seed)) origins.emplace_back(b.x, b.y);
        return origins;
      },
      py::arg("images"), py::arg("sizes"), py::arg("seed"),
      "Top-left corners (x, y) of crops of sizes[i] = (width, height), drawn from (seed, i) alone.");

  m.def(
      "luminance",
      [](const py::sequence& images, int threads) {
        auto src = inputs_of(images);
        std::vector<double> means;
        {
          NativeCall release;
          means = luminance_batch(src, threads);
        }
        return py::array_t<double>(static_cast<py::ssize_t>(means.size()), means.data());
      },
      py::arg("images"), py::arg("num_threads") = 0, "Mean Rec.601 luma of each image, float64, 0..255.");

  m.def(
      "rgb_to_rgba",
      [](const py::sequence& images, const py::sequence& outputs, int threads) {
        auto src = inputs_of(images);
        auto dst = outputs_of(outputs);
        NativeCall release;
        rgb_to_rgba_batch(src, dst, threads);
      },
      py::arg("images"), py::arg("outputs"), py::arg("num_threads") = 0);

  m.def(
      "rgba_to_rgb",
      [](const py::sequence& images, const py::sequence& outputs, int threads) {
        auto src = inputs_of(images);
        auto dst = outputs_of(outputs);
        NativeCall release;
        rgba_to_rgb_batch(src, dst, threads);
      },
      py::arg("images"), py::arg("outputs"), py::arg("num_threads") = 0);
}

}  // namespace fastimg::bind
