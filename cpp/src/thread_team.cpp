#include "thread_team.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace fastimg::detail {
namespace {

// How long a worker polls for the next region before it sleeps. Long enough that back-to-back regions
// (OpenCV's row stripes of one image, op after op) start without a futex wake; short enough that the
// CPU it burns after a batch (at most this per worker) is noise next to the batch.
constexpr auto kSpin = std::chrono::microseconds(50);

thread_local bool tl_in_region = false;
thread_local int tl_thread_num = 0;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

struct Region {
  const std::function<void(std::int64_t)>* body = nullptr;
  std::int64_t n = 0;
  std::atomic<std::int64_t> next{0};
};

void take_indices(Region& region, int thread_num) {
  tl_in_region = true;
  tl_thread_num = thread_num;
  for (std::int64_t i = region.next.fetch_add(1, std::memory_order_relaxed); i < region.n;
       i = region.next.fetch_add(1, std::memory_order_relaxed)) {
    (*region.body)(i);
  }
  tl_in_region = false;
  tl_thread_num = 0;
}

// One caller at a time runs a region on a team (the Teams registry hands each concurrent caller its own).
// A worker joins a region only while it is open; the caller closes it once it has run out of indices and
// then waits only for the workers that joined. A worker the scheduler has not woken by then (a busy
// machine) is not waited for: it wakes later, finds the region closed and sleeps again.
class Team {
 public:
  void run(int threads, Region& region) {
    std::unique_lock<std::mutex> lock(mutex_);
    grow(threads - 1);
    region_ = &region;
    open_ = true;
    invited_ = std::min(threads - 1, static_cast<int>(workers_.size()));
    generation_.fetch_add(1, std::memory_order_release);
    lock.unlock();
    wake_.notify_all();

    take_indices(region, 0);

    lock.lock();
    open_ = false;
    done_.wait(lock, [&] { return joined_ == 0; });
    region_ = nullptr;
  }

 private:
  // Starts workers until there are `count` (fewer if the system refuses threads: the ones there are,
  // the caller at least, take every index). Called with mutex_ held.
  void grow(int count) {
    if (static_cast<int>(workers_.size()) >= count) return;
    // Workers block every signal, so a signal for the process (SIGINT, SIGCHLD) reaches a thread of the
    // application, as if they did not exist.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    while (static_cast<int>(workers_.size()) < count) {
      try {
        const int id = static_cast<int>(workers_.size()) + 1;
        workers_.emplace_back(&Team::work, this, id, generation_.load(std::memory_order_relaxed));
      } catch (const std::system_error&) {
        break;
      }
    }
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  }

  void work(int id, std::uint64_t seen) {
    pthread_setname_np(pthread_self(), "fastimg-worker");
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen) {
        for (int k = 0; k < 32; ++k) cpu_relax();
        if (std::chrono::steady_clock::now() >= spin_until) break;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
      seen = generation_.load(std::memory_order_relaxed);
      if (!open_ || id > invited_) continue;
      ++joined_;
      Region& region = *region_;
      lock.unlock();
      take_indices(region, id);
      lock.lock();
      if (--joined_ == 0 && !open_) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  // Never joined: a team lives until the process exits (see Teams).
  std::vector<std::thread> workers_;
  // Bumped (under mutex_) for every region; workers poll it while they spin.
  std::atomic<std::uint64_t> generation_{0};
  // Under mutex_: the region, whether workers may still join it, how many may, how many are in it.
  Region* region_ = nullptr;
  bool open_ = false;
  int invited_ = 0;
  int joined_ = 0;
};

// Idle teams, most recently used last. Concurrent callers (the Loader's producer thread and the user's
// own batch calls, two Python threads) each take a team, so the process holds as many teams as it ever
// had concurrent callers. Teams and this registry are never destroyed: a worker may still be asleep in
// its team when the process exits, and destroying a joinable std::thread would terminate the process.
// A child forked after a region never touches them (parallel.cpp runs it single-threaded).
class Teams {
 public:
  Team* take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.empty()) return new Team;
    Team* team = idle_.back();
    idle_.pop_back();
    return team;
  }
  void give_back(Team* team) {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(team);
  }

 private:
  std::mutex mutex_;
  std::vector<Team*> idle_;
};

Teams& teams() {
  static Teams* registry = new Teams;
  return *registry;
}

}  // namespace

void run_region(int threads, std::int64_t n, const std::function<void(std::int64_t)>& body) {
  if (tl_in_region || threads <= 1) {
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  Region region;
  region.body = &body;
  region.n = n;
  Team* team = teams().take();
  team->run(threads, region);
  teams().give_back(team);
}

bool in_region() { return tl_in_region; }

int region_thread_num() { return tl_thread_num; }

}  // namespace fastimg::detail
