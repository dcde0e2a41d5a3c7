// Bindings of the transform spec: its enums, TransformSpec itself and plan_item (the per-sample plan, which
// the accuracy benchmark and the tests replay against torchvision).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "fastimg/pipeline.hpp"

namespace py = pybind11;

namespace fastimg::bind {

void register_transform(py::module_& m) {
  py::enum_<ResizeMode>(m, "ResizeMode")
      .value("NONE", ResizeMode::None)
      .value("SHORTER_SIDE", ResizeMode::ShorterSide)
      .value("EXACT", ResizeMode::Exact);
  py::enum_<CropMode>(m, "CropMode")
      .value("NONE", CropMode::None)
      .value("CENTER", CropMode::Center)
      .value("RANDOM_RESIZED", CropMode::RandomResized)
      .value("RANDOM", CropMode::Random);
  py::enum_<OutputType>(m, "OutputType")
      .value("FLOAT32", OutputType::Float32)
      .value("FLOAT16", OutputType::Float16)
      .value("UINT8", OutputType::UInt8);
  py::enum_<Layout>(m, "Layout").value("NCHW", Layout::NCHW).value("NHWC", Layout::NHWC);
  py::enum_<Filter>(m, "Filter")
      .value("BILINEAR", Filter::Bilinear)
      .value("BICUBIC", Filter::Bicubic)
      .value("NEAREST", Filter::Nearest);

  py::class_<TransformSpec>(m, "TransformSpec")
      .def(py::init<>())
      .def_readwrite("height", &TransformSpec::height)
      .def_readwrite("width", &TransformSpec::width)
      .def_readwrite("resize", &TransformSpec::resize)
      .def_readwrite("resize_short", &TransformSpec::resize_short)
      .def_readwrite("resize_max", &TransformSpec::resize_max)
      .def_readwrite("resize_height", &TransformSpec::resize_height)
      .def_readwrite("resize_width", &TransformSpec::resize_width)
      .def_readwrite("crop", &TransformSpec::crop)
      .def_readwrite("scale_min", &TransformSpec::scale_min)
      .def_readwrite("scale_max", &TransformSpec::scale_max)
      .def_readwrite("ratio_min", &TransformSpec::ratio_min)
      .def_readwrite("ratio_max", &TransformSpec::ratio_max)
      .def_readwrite("crop_padding", &TransformSpec::crop_padding)
      .def_readwrite("hflip", &TransformSpec::hflip)
      .def_readwrite("vflip", &TransformSpec::vflip)
      .def_readwrite("grayscale", &TransformSpec::grayscale)
      .def_readwrite("erase", &TransformSpec::erase)
      .def_readwrite("erase_scale_min", &TransformSpec::erase_scale_min)
      .def_readwrite("erase_scale_max", &TransformSpec::erase_scale_max)
      .def_readwrite("erase_ratio_min", &TransformSpec::erase_ratio_min)
      .def_readwrite("erase_ratio_max", &TransformSpec::erase_ratio_max)
      .def_readwrite("erase_value", &TransformSpec::erase_value)
      .def_readwrite("augment_table", &TransformSpec::augment_table)
      .def_readwrite("augment_bins", &TransformSpec::augment_bins)
      .def_readwrite("augment_steps", &TransformSpec::augment_steps)
      .def_readwrite("augment_policy", &TransformSpec::augment_policy)
      .def_readwrite("brightness", &TransformSpec::brightness)
      .def_readwrite("contrast", &TransformSpec::contrast)
      .def_readwrite("saturation", &TransformSpec::saturation)
      .def_readwrite("hue", &TransformSpec::hue)
      .def_readwrite("mean", &TransformSpec::mean)
      .def_readwrite("std", &TransformSpec::std)
      .def_readwrite("dtype", &TransformSpec::dtype)
      .def_readwrite("layout", &TransformSpec::layout)
      .def_readwrite("filter", &TransformSpec::filter)
      .def_readwrite("antialias", &TransformSpec::antialias)
      .def_readwrite("exact", &TransformSpec::exact)
      .def_readwrite("apply_exif_orientation", &TransformSpec::apply_exif_orientation)
      .def_readwrite("fast_dct", &TransformSpec::fast_dct)
      .def_readwrite("limits", &TransformSpec::limits)
      .def("validate", &TransformSpec::validate)
      .def("item_bytes", &TransformSpec::item_bytes);

  m.def(
      "plan_item",
      [](int width, int height, const TransformSpec& spec, std::uint64_t seed, std::uint64_t epoch,
         std::int64_t index) {
        spec.validate();
        const ItemPlan p = plan_item(width, height, spec, seed, epoch, index);
        py::dict d;
        d["box"] = py::make_tuple(p.x0, p.y0, p.x1, p.y1);
        d["flip"] = p.flip;
        d["height_first"] = p.height_first;
        d["brightness"] = p.brightness;
        d["contrast"] = p.contrast;
        d["saturation"] = p.saturation;
        d["jitter_order"] = std::vector<int>(p.jitter_order.begin(), p.jitter_order.begin() + p.jitter_steps);
        d["hue"] = p.hue;
        d["vflip"] = p.vflip;
        d["gray"] = p.gray;
        d["erase"] =
            p.erase_w > 0 ? py::object(py::make_tuple(p.erase_x, p.erase_y, p.erase_w, p.erase_h)) : py::none();
        d["augments"] = std::vector<int>(p.augments.begin(), p.augments.begin() + p.augment_count);
        d["padding"] = p.padded ? py::object(py::make_tuple(p.pad_x, p.pad_y, p.inner_w, p.inner_h)) : py::none();
        return d;
      },
      py::arg("width"), py::arg("height"), py::arg("spec"), py::arg("seed"), py::arg("epoch"), py::arg("index"),
      "The crop box (x0, y0, x1, y1) and random choices planned for one sample (for tests and debugging).");
}

}  // namespace fastimg::bind
