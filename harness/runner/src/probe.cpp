#include "normcheck/runner/probe.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::runner {

void probe_backend_load(const std::string& name_or_path, double timeout_seconds) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    try {
      const auto loaded = backend::LoadedBackend::load(name_or_path);
      _exit(0);
    } catch (...) {
      _exit(0);  // an ordinary load error: the harness reports it itself
    }
  }
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >
        timeout_seconds) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      throw model::InputError(fmt::format("backend '{}': loading it did not finish within {} s",
                                          name_or_path, timeout_seconds));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFSIGNALED(status))
    throw model::InputError(fmt::format("backend '{}': crashed while loading (signal {}, {})",
                                        name_or_path, WTERMSIG(status),
                                        strsignal(WTERMSIG(status))));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    throw model::InputError(fmt::format("backend '{}': loading it exited the process with code {}",
                                        name_or_path, WEXITSTATUS(status)));
}

}  // namespace normcheck::runner
