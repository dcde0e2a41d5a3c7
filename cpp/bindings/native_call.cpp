#include "native_call.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace fastimg::bind {

namespace {

// Both change only with the GIL held; in_flight is read without it by finish_native_calls.
std::atomic<int> in_flight{0};
std::atomic<bool> closing{false};

// A forked child (a DataLoader worker) has none of its parent's threads, so none of their calls.
void reset_in_child() { in_flight.store(0); }

[[noreturn]] void park() {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

}  // namespace

NativeCall::NativeCall() {
  static const bool registered = [] { return pthread_atfork(nullptr, nullptr, reset_in_child) == 0; }();
  (void)registered;
  if (closing.load()) {
    PyEval_SaveThread();
    park();
  }
  in_flight.fetch_add(1);
  state_ = PyEval_SaveThread();
}

NativeCall::~NativeCall() {
  PyEval_RestoreThread(state_);
  in_flight.fetch_sub(1);
}

void finish_native_calls() {
  closing.store(true);
  if (in_flight.load() == 0) return;
  PyThreadState* state = PyEval_SaveThread();
  while (in_flight.load() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  PyEval_RestoreThread(state);
}

}  // namespace fastimg::bind
