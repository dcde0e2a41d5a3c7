// Bindings of the batch calls: decoding, the fused pipeline and file reading. Their options types are
// bound in bind_decode_options.cpp and bind_transform.cpp.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "fastimg/parallel.hpp"
#include "fastimg/pipeline.hpp"
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
  m.def(
      "decode_images",
      [](const py::sequence& items, const DecodeOptions& options, int threads, bool stop_on_error, bool direct_io,
         bool keep_files) {
        HeldSources held = hold_sources(items, {direct_io, keep_files});
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
            images.append(to_numpy(std::move(image), options.mode == PixelFormat::L));
          }
        }
        return py::make_tuple(images, errors_to_python(result.errors), errors_to_python(result.warnings),
                              kept_files(held));
      },
      py::arg("sources"), py::arg("options"), py::arg("num_threads"), py::arg("stop_on_error"),
      py::arg("direct_io") = false, py::arg("keep_files") = false,
      "Decode every source (path sources read on the worker threads, with O_DIRECT if asked); returns (images "
      "with None for failures, errors, warnings, files): errors and warnings as [(position, message, "
      "exception)], files the bytes of each file read when keep_files (None elsewhere), for a cache.");

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
}

}  // namespace fastimg::bind
