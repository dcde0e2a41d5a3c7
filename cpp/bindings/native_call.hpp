// Releasing the GIL around native work without ever aborting the interpreter at exit.
//
// CPython 3.8-3.13 end a thread that tries to take the GIL back after finalization began with
// pthread_exit(). Its forced unwind cannot pass a noexcept frame such as pybind11's gil_scoped_release
// destructor, so a daemon thread (the Loader's prefetch thread, or a user's) that finishes a native call
// while the interpreter shuts down kills the process: "terminate called without an active exception",
// exit status 134. NativeCall closes that window: an atexit hook (finish_native_calls, registered by
// register_runtime) waits, without the GIL, for the calls in flight to return, and a call that starts
// after it parks its thread without the GIL until the process exits, so no thread of ours re-takes the
// GIL once finalization has begun.
#pragma once

#include <Python.h>

namespace fastimg::bind {

class NativeCall {
 public:
  NativeCall();   // GIL held on entry; released on return (or parked for good once the interpreter exits)
  ~NativeCall();  // takes the GIL back
  NativeCall(const NativeCall&) = delete;
  NativeCall& operator=(const NativeCall&) = delete;

 private:
  PyThreadState* state_ = nullptr;
};

// The atexit hook: from now on new native calls park; returns when the calls in flight have returned.
// Called with the GIL held.
void finish_native_calls();

}  // namespace fastimg::bind
