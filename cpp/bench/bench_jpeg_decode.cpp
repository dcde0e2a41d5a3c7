// JPEG decode of a camera-like image at each DCT scale (1, 1/2, 1/4, 1/8): decode_image on one thread,
// the scale asked for through min_width / min_height as a caller would.
#include <cstdint>
#include <string>
#include <vector>

#include "bench_inputs.hpp"
#include "fastimg/decode.hpp"

namespace fastimg::bench {
namespace {

void decode_at_scale(benchmark::State& state, const NamedSize& size, int denominator) {
  static std::map<std::string, std::vector<std::uint8_t>> jpegs;
  auto& jpeg = jpegs[size.name];
  if (jpeg.empty()) jpeg = camera_jpeg(size.width, size.height);
  DecodeOptions options;
  options.min_width = (size.width + denominator - 1) / denominator;
  options.min_height = (size.height + denominator - 1) / denominator;
  int width = 0;
  for (auto _ : state) {
    DecodedImage img = decode_image(jpeg.data(), jpeg.size(), options);
    benchmark::DoNotOptimize(img);
    width = img.width;
  }
  require(width == options.min_width, std::string(size.name) + " at 1/" + std::to_string(denominator) +
                                          " decoded to width " + std::to_string(width));
  const double pixels = static_cast<double>(size.width) * size.height;
  state.counters["bits/px"] = static_cast<double>(jpeg.size()) * 8 / pixels;
  // Stored (full-size) pixels per second, so the scales compare as speed-ups.
  state.counters["Mpx/s"] =
      benchmark::Counter(pixels * 1e-6 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

[[maybe_unused]] const bool registered = [] {
  for (const NamedSize& size : kSizes) {
    for (int denominator : {1, 2, 4, 8}) {
      add(std::string("jpeg_decode/") + size.name + "/scale:1/" + std::to_string(denominator),
          [size, denominator](benchmark::State& state) { decode_at_scale(state, size, denominator); });
    }
  }
  return true;
}();

}  // namespace
}  // namespace fastimg::bench
