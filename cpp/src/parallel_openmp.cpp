// The region runtime of thread_team.hpp on OpenMP with LLVM's libomp, built instead of thread_team.cpp
// when configured with -DFASTIMG_PARALLEL=openmp (clang++ only: g++'s -fopenmp means GNU libgomp, whose
// workers spin after every region and which shares its soname with torch's copy; docs/design.md,
// "Threads"). Same contract as the teams: the caller is thread 0, indices are handed out one at a time,
// a nested region runs serially on the calling thread. Forked children never get here with more than one
// thread (parallel.cpp), although libomp would re-initialise in them.
//
// Binding: clang emits `__kmpc_*` entry points that torch's libgomp does not define, and libomp's own
// `omp_*` / `kmp_*` names carry the version `VERSION` (libgomp's are `OMP_1.0`), so none of our calls
// binds to torch's runtime whichever of the two is imported first.
//
// Empty without -fopenmp: fuzz/CMakeLists.txt compiles every file of cpp/src, and its build runs on the
// teams (thread_team.cpp).
#if defined(_OPENMP)
#include <omp.h>

#include "thread_team.hpp"

namespace fastimg::detail {
namespace {

thread_local bool tl_in_region = false;
thread_local int tl_thread_num = 0;

}  // namespace

void run_region(int threads, std::int64_t n, const std::function<void(std::int64_t)>& body) {
  if (tl_in_region || threads <= 1) {
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  // Workers sleep as soon as a region ends instead of spinning for libomp's default 200 ms. The setting
  // is an ICV of the calling thread (each calling thread is its own libomp root, and a forked child starts
  // from the defaults again), so it is set on every call: no environment variable, nothing torch sees.
  kmp_set_blocktime(0);
#pragma omp parallel num_threads(threads)
  {
    tl_in_region = true;
    tl_thread_num = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1) nowait
    for (std::int64_t i = 0; i < n; ++i) body(i);
    tl_in_region = false;
    tl_thread_num = 0;
  }
}

bool in_region() { return tl_in_region; }

int region_thread_num() { return tl_thread_num; }

}  // namespace fastimg::detail

#endif  // _OPENMP
