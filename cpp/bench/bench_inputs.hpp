// What the benchmarks share: OpenCV-style named sizes, the two thread settings, generated inputs (cached
// per process, so set-up is paid once and never timed) and the one way a benchmark is registered.
// Single-threaded: Google Benchmark runs every benchmark function on its main thread.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "fastimg/ops.hpp"
#include "fastimg/parallel.hpp"
#include "test_codec_helpers.hpp"
#include "test_images.hpp"

namespace fastimg::bench {

// Image sizes by name, as OpenCV's perf tests have them (szVGA, sz1080p).
struct NamedSize {
  const char* name;
  int width, height;
};
inline const std::vector<NamedSize> kSizes = {{"VGA", 640, 480}, {"1080p", 1920, 1080}};

// One thread, and the library default (FASTIMG_NUM_THREADS, OMP_NUM_THREADS, else the CPUs this process
// may use); the "threads" counter of each result says what the default was on that run.
struct ThreadSetting {
  const char* name;
  int threads;  // <= 0: the library default
};
inline const std::vector<ThreadSetting> kThreadSettings = {{"1", 1}, {"default", 0}};

// Images per batch call of the ops benchmarks: enough for every thread to get an item.
constexpr int kOpsBatch = 4;

// A failed check throws, which ends the process with the message: the smoke test (`bench-smoke`) fails,
// where SkipWithError would only print and exit 0.
inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("benchmark input check failed: " + what);
}

// Registers fn as `name`, timed on the wall clock (the CPU time of the calling thread alone would hide
// the workers), in milliseconds.
template <class Fn>
benchmark::internal::Benchmark* add(const std::string& name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))->UseRealTime()->Unit(benchmark::kMillisecond);
}

inline void count_threads(benchmark::State& state, int threads) {
  state.counters["threads"] = resolve_num_threads(threads);
}

// A camera-like photograph: textured() at half size, upsampled bilinearly, so the grain is spatially
// correlated as a sensor's is; at quality 95 (4:2:0) that is about 4 bits per pixel, the entropy of
// camera JPEGs (benchmarks/pipeline_data.py aims at the same; the decode results report it as bits/px).
inline test::Image camera_like(int width, int height, std::uint32_t salt = 0) {
  const test::Image coarse = test::textured((width + 1) / 2, (height + 1) / 2, 3, 0, salt);
  test::Image img(width, height, 3);
  resize_batch({coarse.cview()}, {img.view()}, Interpolation::Bilinear, 1);
  return img;
}

inline std::vector<std::uint8_t> camera_jpeg(int width, int height, std::uint32_t salt = 0) {
  return test::encode_jpeg(camera_like(width, height, salt), 95);
}

// kOpsBatch textured images of a named size with `channels` channels, generated once per process.
inline const std::vector<test::Image>& ops_images(const NamedSize& size, int channels) {
  static std::map<std::pair<std::string, int>, std::vector<test::Image>> cache;
  auto& images = cache[{size.name, channels}];
  for (int i = static_cast<int>(images.size()); i < kOpsBatch; ++i) {
    images.push_back(test::textured(size.width, size.height, channels, 0, static_cast<std::uint32_t>(i)));
  }
  return images;
}

inline std::vector<ConstImageView> views_of(const std::vector<test::Image>& images) {
  std::vector<ConstImageView> out;
  for (const auto& img : images) out.push_back(img.cview());
  return out;
}

inline std::vector<ImageView> views_of(std::vector<test::Image>& images) {
  std::vector<ImageView> out;
  for (auto& img : images) out.push_back(img.view());
  return out;
}

inline std::int64_t bytes_of(const std::vector<test::Image>& images) {
  std::int64_t n = 0;
  for (const auto& img : images) n += static_cast<std::int64_t>(img.width) * img.height * img.channels;
  return n;
}

}  // namespace fastimg::bench
