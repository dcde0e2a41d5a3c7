// resize_batch (ops.hpp) at a few ratios: area at a whole-number factor (our block-mean kernel), area at a
// fractional one and bilinear down and up (cv::resize), on kOpsBatch RGB images per call.
#include <cmath>
#include <string>
#include <vector>

#include "bench_inputs.hpp"

namespace fastimg::bench {
namespace {

struct ResizeCase {
  const char* name;
  Interpolation interpolation;
  double ratio;  // output side / input side
};

const std::vector<ResizeCase> kCases = {{"area/x0.5", Interpolation::Area, 0.5},
                                        {"area/x0.3", Interpolation::Area, 0.3},
                                        {"bilinear/x0.5", Interpolation::Bilinear, 0.5},
                                        {"bilinear/x1.5", Interpolation::Bilinear, 1.5}};

void resize_case(benchmark::State& state, const NamedSize& size, const ResizeCase& c, int threads) {
  const auto& images = ops_images(size, 3);
  const int w = static_cast<int>(std::lround(size.width * c.ratio));
  const int h = static_cast<int>(std::lround(size.height * c.ratio));
  std::vector<test::Image> outputs(images.size(), test::Image(w, h, 3));
  const auto src = views_of(images);
  const auto dst = views_of(outputs);
  for (auto _ : state) {
    resize_batch(src, dst, c.interpolation, threads);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * bytes_of(images));  // input bytes
  count_threads(state, threads);
}

[[maybe_unused]] const bool registered = [] {
  for (const ResizeCase& c : kCases) {
    for (const NamedSize& size : kSizes) {
      for (const ThreadSetting& t : kThreadSettings) {
        add(std::string("resize/") + c.name + "/" + size.name + "/threads:" + t.name,
            [size, c, t](benchmark::State& state) { resize_case(state, size, c, t.threads); });
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace fastimg::bench
