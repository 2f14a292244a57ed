#include "normcheck/runner/interrupt.hpp"

namespace normcheck::runner {

namespace {

// The one piece of process-global state: a signal handler can reach
// nothing else, and only a volatile sig_atomic_t is safe to write there.
volatile std::sig_atomic_t g_received = 0;

extern "C" void on_signal(int sig) {
  g_received = sig;
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_received = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int InterruptGuard::received() {
  return g_received;
}

}  // namespace normcheck::runner
