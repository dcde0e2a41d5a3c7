#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "fastimg/ops.hpp"
#include "fastimg/parallel.hpp"
#include "test_images.hpp"

namespace fastimg {
namespace {

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

TEST(Parallel, RunsEveryIndexOnceAndPropagatesExceptions) {
  std::vector<std::atomic<int>> hits(1000);
  parallel_for(1000, 3, [&](std::int64_t i) { hits[static_cast<std::size_t>(i)]++; });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_THROW(parallel_for(100, 2,
                            [](std::int64_t i) {
                              if (i == 37) throw std::runtime_error("boom");
                            }),
               std::runtime_error);
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

TEST(Parallel, WorkersSleepBetweenRegions) {
  // GNU OpenMP's workers spun for ~9 ms of CPU after every region, on the core the caller then needed.
  // Ours poll for at most 50 us, then sleep: the idle process uses next to no CPU.
  std::vector<double> idle_ms;
  for (int round = 0; round < 5; ++round) {
    std::atomic<std::int64_t> sum{0};
    parallel_for(64, 2, [&](std::int64_t i) {
      std::int64_t local = 0;
      for (std::int64_t k = 0; k < 20000; ++k) local += (k * i) % 7;
      sum += local;
    });
    const double before = process_cpu_seconds();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    idle_ms.push_back(1e3 * (process_cpu_seconds() - before));
  }
  std::sort(idle_ms.begin(), idle_ms.end());
  EXPECT_LT(idle_ms[2], 3.0) << "median CPU ms burnt in 100 ms of idling after a region";
}

TEST(Parallel, NestedRegionRunsOnTheCallingThread) {
  std::mutex m;
  bool all_on_caller = true;
  std::set<std::thread::id> outer_threads;
  parallel_for(8, 2, [&](std::int64_t) {
    const std::thread::id me = std::this_thread::get_id();
    std::vector<std::thread::id> inner(50);
    parallel_for(50, 2, [&](std::int64_t j) { inner[static_cast<std::size_t>(j)] = std::this_thread::get_id(); });
    std::lock_guard<std::mutex> lock(m);
    outer_threads.insert(me);
    for (const std::thread::id& id : inner) all_on_caller = all_on_caller && id == me;
  });
  EXPECT_TRUE(all_on_caller);
  EXPECT_LE(outer_threads.size(), 2u);
}

TEST(Parallel, ConcurrentCallersEachGetEveryIndex) {
  // Each calling thread takes a team of its own; regions never mix.
  std::atomic<bool> ok{true};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round) {
        const std::int64_t n = 17 + c + round;
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
        parallel_for(n, 3, [&](std::int64_t i) { hits[static_cast<std::size_t>(i)]++; });
        for (auto& h : hits) ok = ok && h.load() == 1;
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_TRUE(ok);
}

TEST(Parallel, ResolvesThreadCounts) {
  EXPECT_GE(default_num_threads(), 1);
  set_num_threads(3);
  EXPECT_EQ(get_num_threads(), 3);
  EXPECT_EQ(resolve_num_threads(0), 3);
  EXPECT_EQ(resolve_num_threads(5), 5);
  set_num_threads(0);
  EXPECT_EQ(get_num_threads(), default_num_threads());
}

TEST(Parallel, OpenCvDoesNotStartItsOwnPool) {
  // Debian's OpenCV would start a TBB pool for a large resize, on top of our team. With our
  // backend the process holds at most one team: the caller plus threads - 1 workers.
  constexpr int kThreads = 2;
  // A first thread of the process's own, so that ThreadSanitizer's background thread (started on the first
  // pthread_create) is already there in the TSan build.
  std::thread([] {}).join();
  const int before = thread_count();
  test::Image big = test::textured(2048, 2048, 3);
  test::Image out(1024, 1024, 3);
  std::vector<test::Image> smalls, small_outs;
  for (int i = 0; i < 4; ++i) {
    smalls.push_back(test::textured(300, 200, 3));
    small_outs.emplace_back(100, 100, 3);
  }
  std::vector<ConstImageView> in{smalls[0].cview(), smalls[1].cview(), smalls[2].cview(), smalls[3].cview()};
  std::vector<ImageView> outs{small_outs[0].view(), small_outs[1].view(), small_outs[2].view(), small_outs[3].view()};
  resize_batch({big.cview()}, {out.view()}, Interpolation::Bilinear, kThreads);  // rows split inside OpenCV
  resize_batch(in, outs, Interpolation::Bilinear, kThreads);                     // items split by our team
  const int after_first = thread_count();
  for (int i = 0; i < 10; ++i) resize_batch({big.cview()}, {out.view()}, Interpolation::Area, kThreads);
  EXPECT_EQ(thread_count(), after_first);
  EXPECT_LE(after_first, before + kThreads - 1);
}

TEST(Parallel, ForkedChildAfterParallelRegionDoesNotHang) {
  parallel_for(64, 2, [](std::int64_t) {});
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);  // a hang becomes SIGALRM, which the parent sees as a failure
    test::Image img = test::textured(300, 300, 3);
    test::Image out(100, 100, 3);
    resize_batch({img.cview()}, {out.view()}, Interpolation::Area, 2);
    parallel_for(64, 2, [](std::int64_t) {});
    _exit(get_num_threads() == 1 && forked_after_parallel() ? 0 : 3);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "child was killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace fastimg
