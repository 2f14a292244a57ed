// Ctrl-C (SIGINT) and SIGTERM during a run: while an InterruptGuard lives,
// these signals only set a flag; the run loop polls it, stops its workers
// and still writes the results so far, marked incomplete.
#pragma once

#include <csignal>

namespace normcheck::runner {

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();  // restores the previous handlers
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // The signal that arrived (SIGINT or SIGTERM), or 0.
  static int received();

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

}  // namespace normcheck::runner
