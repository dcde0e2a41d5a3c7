// The core's region runtime (used by parallel.cpp). thread_team.cpp, the default: persistent teams of our
// own whose workers sleep on a condition variable between regions, after a short spin (GNU OpenMP's
// workers spin for milliseconds after each region, on the core that then consumes the batch).
// parallel_openmp.cpp, with -DFASTIMG_PARALLEL=openmp: the same contract on LLVM's libomp
// (docs/design.md, "Threads").
#pragma once

#include <cstdint>
#include <functional>

namespace fastimg::detail {

// Calls body(i) for every i in [0, n), each once, on the calling thread and up to threads - 1 workers of
// a team taken for the call; indices are handed out one at a time. body must not throw. Returns when
// every call of body has returned. Called inside a region (from body), it runs serially on the calling
// thread, as nested OpenMP regions do by default.
void run_region(int threads, std::int64_t n, const std::function<void(std::int64_t)>& body);

// True on a thread while it runs a region's body.
bool in_region();

// The calling thread's number in its region: 0 for the thread that started it, 1.. for workers; 0
// outside any region.
int region_thread_num();

}  // namespace fastimg::detail
