// Bindings of decoding and the fused pipeline.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "fastimg/parallel.hpp"
#include "fastimg/pipeline.hpp"
#include "fastimg/random.hpp"
#include "native_call.hpp"
#include "sources.hpp"

namespace fastimg::bind {

namespace {

// Hands the decoded buffer to numpy without copying; the capsule frees it with the array.
py::array to_numpy(DecodedImage&& image, bool squeeze_single_channel) {
  auto* pixels = new std::vector<std::uint8_t>(std::move(image.pixels));
  py::capsule owner(pixels, [](void* p) { delete static_cast<std::vector<std::uint8_t>*>(p); });
  std::vector<py::ssize_t> shape{image.height, image.width};
  if (!(squeeze_single_channel && image.channels == 1)) shape.push_back(image.channels);
  return py::array(py::dtype::of<std::uint8_t>(), shape, pixels->data(), owner);
}

}  // namespace

void register_decode(py::module_& m) {
  // The safety limits' defaults, written once (DecodeLimits); Python reads them from here.
  const DecodeLimits defaults;
  m.attr("DEFAULT_MAX_PIXELS") = defaults.max_pixels;
  m.attr("DEFAULT_MAX_SCANS") = defaults.max_scans;
  m.attr("DEFAULT_MAX_BYTES") = defaults.max_bytes;
  py::enum_<PixelFormat>(m, "PixelFormat")
      .value("RGB", PixelFormat::RGB)
      .value("L", PixelFormat::L)
      .value("RGBA", PixelFormat::RGBA);
  py::enum_<ResizeMode>(m, "ResizeMode")
      .value("NONE", ResizeMode::None)
      .value("SHORTER_SIDE", ResizeMode::ShorterSide)
      .value("EXACT", ResizeMode::Exact);
  py::enum_<CropMode>(m, "CropMode")
      .value("NONE", CropMode::None)
      .value("CENTER", CropMode::Center)
      .value("RANDOM_RESIZED", CropMode::RandomResized);
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
      .def_readwrite("resize_height", &TransformSpec::resize_height)
      .def_readwrite("resize_width", &TransformSpec::resize_width)
      .def_readwrite("crop", &TransformSpec::crop)
      .def_readwrite("scale_min", &TransformSpec::scale_min)
      .def_readwrite("scale_max", &TransformSpec::scale_max)
      .def_readwrite("ratio_min", &TransformSpec::ratio_min)
      .def_readwrite("ratio_max", &TransformSpec::ratio_max)
      .def_readwrite("hflip", &TransformSpec::hflip)
      .def_readwrite("brightness", &TransformSpec::brightness)
      .def_readwrite("contrast", &TransformSpec::contrast)
      .def_readwrite("saturation", &TransformSpec::saturation)
      .def_readwrite("mean", &TransformSpec::mean)
      .def_readwrite("std", &TransformSpec::std)
      .def_readwrite("dtype", &TransformSpec::dtype)
      .def_readwrite("layout", &TransformSpec::layout)
      .def_readwrite("filter", &TransformSpec::filter)
      .def_readwrite("antialias", &TransformSpec::antialias)
      .def_readwrite("exact", &TransformSpec::exact)
      .def_readwrite("apply_exif_orientation", &TransformSpec::apply_exif_orientation)
      .def_readwrite("fast_dct", &TransformSpec::fast_dct)
      .def_property(
          "max_pixels", [](const TransformSpec& s) { return s.limits.max_pixels; },
          [](TransformSpec& s, std::int64_t v) { s.limits.max_pixels = v; })
      .def_property(
          "max_bytes", [](const TransformSpec& s) { return s.limits.max_bytes; },
          [](TransformSpec& s, std::size_t v) { s.limits.max_bytes = v; })
      .def_property(
          "max_scans", [](const TransformSpec& s) { return s.limits.max_scans; },
          [](TransformSpec& s, int v) { s.limits.max_scans = v; })
      .def_property(
          "strict", [](const TransformSpec& s) { return s.limits.strict; },
          [](TransformSpec& s, bool v) { s.limits.strict = v; })
      .def("validate", &TransformSpec::validate)
      .def("item_bytes", &TransformSpec::item_bytes);

  m.def(
      "decode_images",
      [](const py::sequence& items, PixelFormat mode, int min_width, int min_height, int max_side, bool exif,
         std::int64_t max_pixels, int max_scans, std::size_t max_bytes, bool strict, int threads, bool stop_on_error) {
        HeldSources held = hold_sources(items);
        DecodeOptions options;
        options.mode = mode;
        options.min_width = min_width;
        options.min_height = min_height;
        options.max_side = max_side;
        options.apply_exif_orientation = exif;
        options.limits.max_pixels = max_pixels;
        options.limits.max_scans = max_scans;
        options.limits.max_bytes = max_bytes;
        options.limits.strict = strict;
        DecodeBatchResult result;
        {
          NativeCall release;
          result = decode_batch(held.sources, options, threads, stop_on_error);
        }
        py::list images;
        for (auto& image : result.images) {
          if (image.pixels.empty()) {
            images.append(py::none());
          } else {
            images.append(to_numpy(std::move(image), mode == PixelFormat::L));
          }
        }
        return py::make_tuple(images, errors_to_python(result.errors), errors_to_python(result.warnings));
      },
      py::arg("sources"), py::arg("mode"), py::arg("min_width"), py::arg("min_height"), py::arg("max_side"),
      py::arg("apply_exif_orientation"), py::arg("max_pixels"), py::arg("max_scans"), py::arg("max_bytes"),
      py::arg("strict"), py::arg("num_threads"), py::arg("stop_on_error"),
      "Decode every source; returns (images with None for failures, errors, warnings), each error or warning "
      "(position, kind, errno, message).");

  m.def(
      "run_pipeline",
      [](const py::sequence& items, const std::vector<std::int64_t>& indices, const TransformSpec& spec,
         std::uint64_t seed, std::uint64_t epoch, const py::array& out, int threads, bool stop_on_error, bool direct_io,
         bool keep_files) {
        spec.validate();
        FASTIMG_CHECK(out.writeable() && (out.flags() & py::array::c_style),
                      "out must be a writable C-contiguous array");
        const std::size_t needed = spec.item_bytes() * static_cast<std::size_t>(items.size());
        FASTIMG_CHECK(static_cast<std::size_t>(out.nbytes()) >= needed, "out holds ", out.nbytes(),
                      " bytes but the batch needs ", needed);
        HeldSources held = hold_sources(items, {direct_io, keep_files});
        auto* data = static_cast<std::uint8_t*>(const_cast<void*>(out.data()));
        PipelineResult result;
        {
          NativeCall release;
          result = run_pipeline(held.sources, indices, spec, seed, epoch, data, threads, stop_on_error, true);
        }
        return py::make_tuple(result.good, errors_to_python(result.errors), errors_to_python(result.warnings),
                              kept_files(held));
      },
      py::arg("sources"), py::arg("indices"), py::arg("spec"), py::arg("seed"), py::arg("epoch"), py::arg("out"),
      py::arg("num_threads"), py::arg("stop_on_error"), py::arg("direct_io") = false, py::arg("keep_files") = false,
      "Read (path sources, with O_DIRECT if asked), decode and transform every item into out, on the worker "
      "threads; good items are compacted to the front. Returns (good positions, errors, warnings, files): "
      "errors and warnings as [(position, message, exception)], files the bytes of each file read when "
      "keep_files (None elsewhere), for a cache.");

  m.def(
      "read_files",
      [](const std::vector<std::string>& paths, bool direct_io, int threads) {
        std::vector<std::vector<std::uint8_t>> contents(paths.size());
        std::vector<ItemError> errors;
        {
          NativeCall release;
          errors = run_items(paths.size(), resolve_num_threads(threads), false,
                             [&](std::size_t i) { read_file(paths[i], contents[i], direct_io); });
        }
        py::list out;
        for (auto& bytes : contents) {
          out.append(py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
          std::vector<std::uint8_t>().swap(bytes);
        }
        return py::make_tuple(out, errors_to_python(errors));
      },
      py::arg("paths"), py::arg("direct_io"), py::arg("num_threads"),
      "Read whole files in parallel; returns (contents, [(position, kind, errno, message)]).");

  m.def(
      "plan_item",
      [](int width, int height, const TransformSpec& spec, std::uint64_t seed, std::uint64_t epoch,
         std::int64_t index) {
        spec.validate();
        const ItemPlan p = plan_item(width, height, spec, seed, epoch, index);
        py::dict d;
        d["box"] = py::make_tuple(p.x0, p.y0, p.x1, p.y1);
        d["flip"] = p.flip;
        d["brightness"] = p.brightness;
        d["contrast"] = p.contrast;
        d["saturation"] = p.saturation;
        d["jitter_order"] = p.jitter_order;
        return d;
      },
      py::arg("width"), py::arg("height"), py::arg("spec"), py::arg("seed"), py::arg("epoch"), py::arg("index"),
      "The crop box (x0, y0, x1, y1) and random choices planned for one sample (for tests and debugging).");

  m.def(
      "sample_uniforms",
      [](std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream, std::int64_t index, int count) {
        SampleRng rng(seed, stream_id(epoch, stream), static_cast<std::uint64_t>(index));
        std::vector<double> values(static_cast<std::size_t>(count));
        for (double& v : values) v = rng.uniform();
        return values;
      },
      py::arg("seed"), py::arg("epoch"), py::arg("stream"), py::arg("index"), py::arg("count"),
      "The first `count` uniforms of a sample's generator stream (1 crop, 2 flip, 3 jitter), for tests.");
}

}  // namespace fastimg::bind
