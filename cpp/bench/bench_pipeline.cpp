// The fused pipeline (run_pipeline: encoded bytes in memory -> float32 NCHW, ImageNet-normalised) per
// workload of benchmarks/bench_pipeline.py: eval (Resize(256) + CenterCrop(224)) and RandomResizedCrop(224)
// with flip on ImageNet-sized camera-like JPEGs, and 32-px thumbnails stretched to 32 x 32.
#include <cstdint>
#include <string>
#include <vector>

#include "bench_inputs.hpp"
#include "fastimg/pipeline.hpp"

namespace fastimg::bench {
namespace {

struct JpegSet {
  std::vector<std::vector<std::uint8_t>> files;
  std::vector<Source> sources;
  std::vector<std::int64_t> indices;
};

// `count` camera-like JPEGs cycling through `sizes` (width, height), each with its own content.
JpegSet make_set(const std::vector<std::pair<int, int>>& sizes, int count) {
  JpegSet set;
  for (int i = 0; i < count; ++i) {
    const auto [w, h] = sizes[static_cast<std::size_t>(i) % sizes.size()];
    set.files.push_back(camera_jpeg(w, h, static_cast<std::uint32_t>(i)));
  }
  for (const auto& f : set.files) set.sources.push_back({f.data(), f.size(), {}});
  for (int i = 0; i < count; ++i) set.indices.push_back(i);
  return set;
}

// ImageNet's common shapes (landscape, portrait, 3:2, 4:3 VGA), 64 files as the Python workloads batch.
const JpegSet& imagenet_set() {
  static const JpegSet set = make_set({{500, 375}, {375, 500}, {500, 333}, {640, 480}}, 64);
  return set;
}

const JpegSet& thumbnail_set() {
  static const JpegSet set = make_set({{32, 32}}, 256);
  return set;
}

TransformSpec imagenet_spec(int side) {
  TransformSpec spec;
  spec.height = spec.width = side;
  spec.mean = {0.485f, 0.456f, 0.406f};
  spec.std = {0.229f, 0.224f, 0.225f};
  return spec;
}

struct Workload {
  const char* name;
  const JpegSet& (*set)();
  TransformSpec spec;
};

std::vector<Workload> workloads() {
  TransformSpec eval = imagenet_spec(224);
  eval.resize = ResizeMode::ShorterSide;
  eval.resize_short = 256;
  eval.crop = CropMode::Center;
  TransformSpec rrc = imagenet_spec(224);
  rrc.crop = CropMode::RandomResized;
  rrc.hflip = 0.5;
  return {{"eval_resize256_center224", imagenet_set, eval},
          {"random_resized_crop224_flip", imagenet_set, rrc},
          {"thumbnail32", thumbnail_set, imagenet_spec(32)}};
}

void run_workload(benchmark::State& state, const Workload& work, int threads) {
  const JpegSet& set = work.set();
  std::vector<std::uint8_t> out(work.spec.item_bytes() * set.sources.size());
  std::uint64_t epoch = 0;
  std::size_t good = 0;
  for (auto _ : state) {
    // A new epoch per call: random crops and flips differ from call to call, as in training.
    const PipelineResult r = run_pipeline(set.sources, set.indices, work.spec, 7, epoch++, out.data(), threads,
                                          /*stop_on_error=*/true, /*compact=*/false);
    good = r.good.size();
    benchmark::ClobberMemory();
  }
  require(good == set.sources.size(), std::string(work.name) + ": " + std::to_string(good) + " of " +
                                          std::to_string(set.sources.size()) + " items delivered");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(set.sources.size()));
  state.counters["batch"] = static_cast<double>(set.sources.size());
  count_threads(state, threads);
}

[[maybe_unused]] const bool registered = [] {
  for (const Workload& work : workloads()) {
    for (const ThreadSetting& t : kThreadSettings) {
      add(std::string("pipeline/") + work.name + "/threads:" + t.name,
          [work, t](benchmark::State& state) { run_workload(state, work, t.threads); });
    }
  }
  return true;
}();

}  // namespace
}  // namespace fastimg::bench
