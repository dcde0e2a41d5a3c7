// Counter-based randomness: every draw for sample `index` comes from (seed, stream, index) alone, never
// from thread ids or batch positions, so results do not depend on threads, batching or resume points.
#pragma once

#include <cstdint>

namespace fastimg {

// SplitMix64 finaliser: a bijective 64-bit mixer with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A small deterministic generator for one sample. Not thread-safe; make one per sample.
class SampleRng {
 public:
  SampleRng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index)
      : state_(mix64(mix64(mix64(seed) ^ stream) ^ index)) {}

  std::uint64_t next_u64() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return mix64(state_);
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Uniform integer in [lo, hi] (inclusive); hi >= lo. Uses rejection, so there is no modulo bias.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    if (span == 0) return static_cast<std::int64_t>(next_u64());
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    std::uint64_t r;
    do {
      r = next_u64();
    } while (r >= limit);
    return lo + static_cast<std::int64_t>(r % span);
  }

 private:
  std::uint64_t state_;
};

}  // namespace fastimg
