// Thread control for the core: one parallel runtime (our own worker teams, thread_team.cpp), one place
// that decides how many threads a call may use. Thread-safe: the count is read once per call, so changing
// it never affects a call in flight.
#pragma once

#include <cstdint>
#include <functional>

namespace fastimg {

// The default number of threads: $FASTIMG_NUM_THREADS if set to a positive integer, else OMP_NUM_THREADS
// (the cap users set for every library), else the CPUs in this process's affinity mask.
int default_num_threads();

// Sets the number of threads later calls use when they are not given one; n <= 0 restores the default.
void set_num_threads(int n);

// The number of threads a call without an explicit count uses. Always 1 in a process forked after its
// parent ran a parallel region: the parent's workers do not exist there, its team state may have been
// copied mid-update, and a DataLoader's worker processes want one thread each anyway.
int get_num_threads();

// Resolves a per-call request: requested <= 0 means get_num_threads(); the result is clamped to 1 in a
// forked child as above.
int resolve_num_threads(int requested);

// True in a process forked after its parent ran a parallel region.
bool forked_after_parallel();

// Runs fn(i) for i in [0, n) on the calling thread and up to threads - 1 workers, indices handed out one
// at a time. Inside fn, a nested parallel_for runs serially. The first exception thrown
// by any fn is rethrown on the caller's thread after every task has finished or been skipped.
void parallel_for(std::int64_t n, int threads, const std::function<void(std::int64_t)>& fn);

// Runs fn(i) for each of n items of an OpenCV-backed operation. With many items it parallelises across
// items (each OpenCV call single-threaded); with fewer items than threads it runs the items one by one
// and lets OpenCV split each across `threads` threads by rows of the whole image's grid, so the bytes
// do not depend on the thread count either way.
void for_each_item(std::int64_t n, int threads, const std::function<void(std::int64_t)>& fn);

}  // namespace fastimg
