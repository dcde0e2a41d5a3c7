#include "fastimg/parallel.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/core/parallel/parallel_backend.hpp>
#include <thread>

#include "thread_team.hpp"

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

// Routes OpenCV's internal parallel_for_ (used by resize, cvtColor, ...) through our region runtime (the
// thread teams, or libomp with FASTIMG_PARALLEL=openmp), so Debian's OpenCV never starts its own
// TBB/pthreads pool and threads never multiply inside ours. OpenCV splits work in stripes of the whole
// image's grid, so the bytes are the same for any thread count.
class OpenCvBackend final : public cv::parallel::ParallelForAPI {
 public:
  void parallel_for(int tasks, FN_parallel_for_body_cb_t body, void* data) override {
    const int threads = std::min(tl_opencv_threads, tasks);
    if (threads <= 1 || detail::in_region()) {
      body(0, tasks, data);
      return;
    }
    before_parallel_region();
    detail::run_region(threads, tasks,
                       [&](std::int64_t i) { body(static_cast<int>(i), static_cast<int>(i) + 1, data); });
  }
  int getThreadNum() const override { return detail::region_thread_num(); }
  int getNumThreads() const override { return tl_opencv_threads; }
  int setNumThreads(int) override { return tl_opencv_threads; }
  const char* getName() const override { return "fastimg"; }
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

// The CPUs this process may use, or OMP_NUM_THREADS (the variable users set to cap every library's
// threads). Not torch's or OpenMP's current setting: other libraries change those per thread
// (torch.set_num_threads(1) for a training loop would silently make data loading single-threaded).
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
  std::mutex error_mutex;
  detail::run_region(threads, n, [&](std::int64_t i) {
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
