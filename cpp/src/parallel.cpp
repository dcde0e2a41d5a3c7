#include "fastimg/parallel.hpp"

#ifndef FASTIMG_STD_THREADS
#include <omp.h>
#else
#include <sched.h>

#include <system_error>
#include <thread>
#include <vector>
#endif
#include <pthread.h>
#include <sched.h>

#include <thread>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/core/parallel/parallel_backend.hpp>

namespace fastimg {
namespace {

std::atomic<int> g_requested_threads{0};
std::atomic<bool> g_ran_parallel{false};
std::atomic<bool> g_forked_after_parallel{false};

// Threads OpenCV may use for a call made on this thread. Thread-local, so a batch running elsewhere never
// sees another caller's setting; 1 by default, so OpenCV never starts threads we did not ask for.
thread_local int tl_opencv_threads = 1;

void on_fork_child() {
  if (g_ran_parallel.load()) g_forked_after_parallel.store(true);
}

void before_parallel_region() { g_ran_parallel.store(true, std::memory_order_relaxed); }

#ifndef FASTIMG_STD_THREADS
bool in_parallel_region() { return omp_in_parallel(); }
int thread_num() { return omp_get_thread_num(); }
#else
// FASTIMG_STD_THREADS (defined by the build for FASTIMG_SANITIZE=thread, which compiles without -fopenmp:
// Debian's libgomp is not instrumented, so ThreadSanitizer cannot see its synchronisation). Without it,
// the OpenMP code above is used, serial when compiled without -fopenmp (pragmas ignored, as the fuzz/
// build does with its stub <omp.h>). The same loops run on std::threads with OpenMP's semantics as we use
// them: the caller is thread 0 plus threads - 1 workers started for the region and joined at its end,
// indices handed out one at a time (schedule(dynamic)), a region inside a region runs serially (OpenMP's
// default, no nesting). Slower to start than libgomp's pool, which is fine for that build. The default
// thread count is the CPUs in the affinity mask (OMP_NUM_THREADS is not read; FASTIMG_NUM_THREADS is).
thread_local bool tl_in_region = false;
thread_local int tl_thread_num = 0;

bool in_parallel_region() { return tl_in_region; }
int thread_num() { return tl_thread_num; }

// body(i) for i in [0, n) on up to `threads` threads. body must not throw (as in an OpenMP region).
template <class Body>
void run_region(int threads, std::int64_t n, const Body& body) {
  if (tl_in_region) threads = 1;  // nested: serial, on the calling thread
  std::atomic<std::int64_t> next{0};
  auto work = [&](int t) {
    const bool outer_in_region = tl_in_region;
    const int outer_thread_num = tl_thread_num;
    tl_in_region = true;
    tl_thread_num = t;
    for (std::int64_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) body(i);
    tl_in_region = outer_in_region;
    tl_thread_num = outer_thread_num;
  };
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(threads - 1));
  for (int t = 1; t < threads; ++t) {
    try {
      workers.emplace_back(work, t);
    } catch (const std::system_error&) {
      break;  // no more threads: the ones we have (at least the caller) take every index
    }
  }
  work(0);
  for (std::thread& w : workers) w.join();
}
#endif

// Routes OpenCV's internal parallel_for_ (used by resize, cvtColor, ...) through our OpenMP runtime, so
// Debian's OpenCV never starts its own TBB/pthreads pool and threads never multiply inside ours. OpenCV
// splits work in stripes of the whole image's grid, so the bytes are the same for any thread count.
class OpenCvBackend final : public cv::parallel::ParallelForAPI {
 public:
  void parallel_for(int tasks, FN_parallel_for_body_cb_t body, void* data) override {
    const int threads = std::min(tl_opencv_threads, tasks);
    if (threads <= 1 || in_parallel_region()) {
      body(0, tasks, data);
      return;
    }
    before_parallel_region();
#ifndef FASTIMG_STD_THREADS
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (int i = 0; i < tasks; ++i) body(i, i + 1, data);
#else
    run_region(threads, tasks, [&](std::int64_t i) { body(static_cast<int>(i), static_cast<int>(i) + 1, data); });
#endif
  }
  int getThreadNum() const override { return thread_num(); }
  int getNumThreads() const override { return tl_opencv_threads; }
  int setNumThreads(int) override { return tl_opencv_threads; }
  const char* getName() const override { return "fastimg-openmp"; }
};

void init_runtime() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr, on_fork_child);
    cv::parallel::setParallelForBackend(std::make_shared<OpenCvBackend>(), false);
  });
}

class ScopedOpenCvThreads {
 public:
  explicit ScopedOpenCvThreads(int threads) : saved_(tl_opencv_threads) { tl_opencv_threads = threads; }
  ~ScopedOpenCvThreads() { tl_opencv_threads = saved_; }
  ScopedOpenCvThreads(const ScopedOpenCvThreads&) = delete;
  ScopedOpenCvThreads& operator=(const ScopedOpenCvThreads&) = delete;

 private:
  int saved_;
};

// The CPUs this process may use, or OMP_NUM_THREADS. Not omp_get_max_threads(): that is per-thread state
// other libraries change (torch.set_num_threads(1) for a training loop would silently make data loading
// single-threaded).
int max_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && n > 0 && n <= 4096) return static_cast<int>(n);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());
}

}  // namespace

int default_num_threads() {
  if (const char* env = std::getenv("FASTIMG_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n <= 4096) return static_cast<int>(n);
  }
  return std::max(1, max_threads());
}

void set_num_threads(int n) { g_requested_threads.store(n > 0 ? n : 0); }

bool forked_after_parallel() { return g_forked_after_parallel.load(); }

int get_num_threads() {
  init_runtime();
  if (forked_after_parallel()) return 1;
  const int requested = g_requested_threads.load();
  return requested > 0 ? requested : default_num_threads();
}

int resolve_num_threads(int requested) {
  init_runtime();
  if (forked_after_parallel()) return 1;
  return requested > 0 ? requested : get_num_threads();
}

void parallel_for(std::int64_t n, int threads, const std::function<void(std::int64_t)>& fn) {
  init_runtime();
  if (n <= 0) return;
  threads = static_cast<int>(std::min<std::int64_t>(threads, n));
  if (threads <= 1 || forked_after_parallel()) {
    for (std::int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  before_parallel_region();
  std::exception_ptr error;
  std::atomic<bool> failed{false};
#ifndef FASTIMG_STD_THREADS
#pragma omp parallel for num_threads(threads) schedule(dynamic)
  for (std::int64_t i = 0; i < n; ++i) {
    if (failed.load(std::memory_order_relaxed)) continue;
    try {
      fn(i);
    } catch (...) {
#pragma omp critical(fastimg_parallel_error)
      {
        if (!error) error = std::current_exception();
      }
      failed.store(true, std::memory_order_relaxed);
    }
  }
#else
  std::mutex error_mutex;
  run_region(threads, n, [&](std::int64_t i) {
    if (failed.load(std::memory_order_relaxed)) return;
    try {
      fn(i);
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      failed.store(true, std::memory_order_relaxed);
    }
  });
#endif
  if (error) std::rethrow_exception(error);
}

void for_each_item(std::int64_t n, int threads, const std::function<void(std::int64_t)>& fn) {
  init_runtime();
  if (forked_after_parallel()) threads = 1;
  const bool across_items = n >= threads && (n % threads == 0 || n >= 4 * static_cast<std::int64_t>(threads));
  if (threads <= 1 || across_items) {
    parallel_for(n, threads, fn);
    return;
  }
  ScopedOpenCvThreads scope(threads);
  for (std::int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace fastimg
