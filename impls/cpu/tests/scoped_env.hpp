// An environment variable set for the lifetime of a test's object. The cpu
// backend reads its settings (NORMCHECK_CPU_THREADS, NORMCHECK_CPU_ISA) on
// every call, so a test can change them between calls.
#pragma once

#include <cstdlib>
#include <string>

namespace normcheck::cpu::testing {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_.c_str()); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
};

// NORMCHECK_CPU_THREADS (parallel.cpp's thread_count).
class ThreadCount : public ScopedEnv {
 public:
  explicit ThreadCount(const char* n) : ScopedEnv("NORMCHECK_CPU_THREADS", n) {}
};

}  // namespace normcheck::cpu::testing
