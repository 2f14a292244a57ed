// The cpu backend's thread count for the lifetime of a test's object
// (NORMCHECK_CPU_THREADS, read by parallel.cpp's thread_count on every call).
#pragma once

#include <cstdlib>

namespace normcheck::cpu::testing {

class ThreadCount {
 public:
  explicit ThreadCount(const char* n) { setenv("NORMCHECK_CPU_THREADS", n, 1); }
  ~ThreadCount() { unsetenv("NORMCHECK_CPU_THREADS"); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;
};

}  // namespace normcheck::cpu::testing
