// The other batched kernels of ops.hpp on kOpsBatch images per call: crop (the centred half of each side),
// luminance, and RGB <-> RGBA.
#include <string>
#include <utility>
#include <vector>

#include "bench_inputs.hpp"

namespace fastimg::bench {
namespace {

void crop(benchmark::State& state, const NamedSize& size, int threads) {
  const auto& images = ops_images(size, 3);
  const int w = size.width / 2, h = size.height / 2;
  std::vector<test::Image> outputs(images.size(), test::Image(w, h, 3));
  const std::vector<Box> regions(images.size(), Box{w / 2, h / 2, w, h});
  const auto src = views_of(images);
  const auto dst = views_of(outputs);
  for (auto _ : state) {
    crop_batch(src, dst, regions, threads);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * bytes_of(outputs));  // bytes copied
  count_threads(state, threads);
}

void luminance(benchmark::State& state, const NamedSize& size, int threads) {
  const auto& images = ops_images(size, 3);
  const auto src = views_of(images);
  for (auto _ : state) {
    std::vector<double> means = luminance_batch(src, threads);
    benchmark::DoNotOptimize(means);
  }
  state.SetBytesProcessed(state.iterations() * bytes_of(images));
  count_threads(state, threads);
}

// from_channels -> 7 - from_channels: 3 -> 4 adds an opaque alpha, 4 -> 3 drops it.
void convert(benchmark::State& state, const NamedSize& size, int from_channels, int threads) {
  const auto& images = ops_images(size, from_channels);
  std::vector<test::Image> outputs(images.size(), test::Image(size.width, size.height, 7 - from_channels));
  const auto src = views_of(images);
  const auto dst = views_of(outputs);
  for (auto _ : state) {
    if (from_channels == 3) {
      rgb_to_rgba_batch(src, dst, threads);
    } else {
      rgba_to_rgb_batch(src, dst, threads);
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * bytes_of(images));  // input bytes
  count_threads(state, threads);
}

using OpFn = void (*)(benchmark::State&, const NamedSize&, int threads);

[[maybe_unused]] const bool registered = [] {
  const std::vector<std::pair<const char*, OpFn>> ops = {
      {"crop/half", crop},
      {"luminance", luminance},
      {"rgb_to_rgba", [](benchmark::State& s, const NamedSize& size, int threads) { convert(s, size, 3, threads); }},
      {"rgba_to_rgb", [](benchmark::State& s, const NamedSize& size, int threads) { convert(s, size, 4, threads); }}};
  for (const auto& [name, fn] : ops) {
    for (const NamedSize& size : kSizes) {
      for (const ThreadSetting& t : kThreadSettings) {
        add(std::string(name) + "/" + size.name + "/threads:" + t.name,
            [fn = fn, size, t](benchmark::State& s) { fn(s, size, t.threads); });
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace fastimg::bench
