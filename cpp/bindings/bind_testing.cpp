// fastimg._core._testing: hooks that only fastimg's own tests call. Kept out of _core's namespace so that
// nothing there looks like API; they may change without notice.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "fastimg/parallel.hpp"
#include "fastimg/pipeline.hpp"
#include "fastimg/random.hpp"

namespace py = pybind11;

namespace fastimg::bind {

void register_testing(py::module_& m) {
  py::module_ t = m.def_submodule("_testing", "Hooks for fastimg's own tests; not API.");

  t.def(
      "sample_uniforms",
      [](std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream, std::int64_t index, int count) {
        SampleRng rng(seed, stream_id(epoch, stream), static_cast<std::uint64_t>(index));
        std::vector<double> values(static_cast<std::size_t>(count));
        for (double& v : values) v = rng.uniform();
        return values;
      },
      py::arg("seed"), py::arg("epoch"), py::arg("stream"), py::arg("index"), py::arg("count"),
      "The first `count` uniforms of a sample's generator stream (1 crop, 2 flip, 3 jitter).");

  t.def("default_num_threads", &default_num_threads,
        "The thread count used when none was set ($FASTIMG_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this "
        "process may use).");
  t.def("forked_after_parallel", &forked_after_parallel,
        "Whether this process was forked after its parent ran native work in parallel (calls then run on one "
        "thread).");
}

}  // namespace fastimg::bind
