// Serial stand-in for <omp.h>, used only by the fuzz build (fuzz/CMakeLists.txt). The fuzzers are built
// with clang without -fopenmp (Debian's clang-14 needs libomp-14-dev for that), so `#pragma omp` is
// ignored and the core runs serially, which is what libFuzzer wants anyway: one input at a time,
// reproducible. Only the functions the core calls are provided.
#pragma once

inline int omp_get_thread_num() { return 0; }
inline int omp_get_max_threads() { return 1; }
inline int omp_in_parallel() { return 0; }
