#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <atomic>

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
  // Debian's OpenCV would start a TBB pool for a large resize, on top of our OpenMP team. With our
  // backend the process holds at most one team: the caller plus threads - 1 workers.
  constexpr int kThreads = 2;
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
  resize_batch(in, outs, Interpolation::Bilinear, kThreads);                     // items split by OpenMP
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
