#include "normcheck/runner/worker_pool.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace normcheck::runner {

namespace {

constexpr std::size_t kLogTailBytes = 2000;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tail(const std::string& text) {
  if (text.size() <= kLogTailBytes) return text;
  std::string t = text.substr(text.size() - kLogTailBytes);
  const auto newline = t.find('\n');
  return "..." + (newline == std::string::npos ? t : t.substr(newline));
}

std::filesystem::path make_scratch_dir() {
  const auto base = std::filesystem::temp_directory_path() / "normcheck-XXXXXX";
  std::string pattern = base.string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error(std::string("cannot create a scratch directory: ") +
                             std::strerror(errno));
  return pattern;
}

// In the worker: never returns.
[[noreturn]] void worker_main(const std::filesystem::path& report, const std::filesystem::path& log,
                              const std::function<void(int)>& body) {
  setpgid(0, 0);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGINT, &dfl, nullptr);
  sigaction(SIGTERM, &dfl, nullptr);
  const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (log_fd >= 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    close(log_fd);
  }
  const int fd = open(report.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) _exit(111);
  try {
    body(fd);
  } catch (const std::exception& e) {
    ReportWriter(fd).harness_error(e.what());
  } catch (...) {
    ReportWriter(fd).harness_error("unknown exception");
  }
  // _exit, not exit: no atexit handlers or static destructors of the
  // harness's libraries (HDF5 would close the parent's files) run twice.
  _exit(0);
}

}  // namespace

WorkerPool::WorkerPool(int slots, double timeout_seconds)
    : slots_(slots < 1 ? 1 : slots),
      timeout_seconds_(timeout_seconds),
      scratch_(make_scratch_dir()) {}

WorkerPool::~WorkerPool() {
  kill_all();
  std::error_code ec;
  std::filesystem::remove_all(scratch_, ec);
}

void WorkerPool::start(std::size_t task, const std::function<void(int)>& body) {
  Worker w;
  w.task = task;
  const std::string stem = "task" + std::to_string(serial_++);
  w.report = scratch_ / (stem + ".report");
  w.log = scratch_ / (stem + ".log");
  std::fflush(nullptr);  // nothing buffered in the harness is written twice
  w.pid = fork();
  if (w.pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (w.pid == 0) worker_main(w.report, w.log, body);
  setpgid(w.pid, w.pid);  // also here: no race with the worker's own call
  w.started = std::chrono::steady_clock::now();
  running_.push_back(std::move(w));
}

WorkerPool::Finished WorkerPool::collect(const Worker& w, int wait_status, bool timed_out) const {
  Finished f;
  f.task = w.task;
  f.report = parse_child_report(read_file(w.report));
  f.outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - w.started).count();
  f.outcome.timeout_seconds = timeout_seconds_;
  f.outcome.log_tail = tail(read_file(w.log));
  if (timed_out) {
    f.outcome.kind = ProcessOutcome::Kind::timed_out;
  } else if (WIFSIGNALED(wait_status)) {
    f.outcome.kind = ProcessOutcome::Kind::signaled;
    f.outcome.code = WTERMSIG(wait_status);
  } else {
    f.outcome.kind = ProcessOutcome::Kind::exited;
    f.outcome.code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  }
  std::error_code ec;
  std::filesystem::remove(w.report, ec);
  std::filesystem::remove(w.log, ec);
  return f;
}

std::vector<WorkerPool::Finished> WorkerPool::wait(const std::function<bool()>& stop) {
  std::vector<Finished> done;
  while (true) {
    for (std::size_t i = 0; i < running_.size();) {
      const Worker& w = running_[i];
      int status = 0;
      pid_t r = waitpid(w.pid, &status, WNOHANG);
      bool timed_out = false;
      if (r == 0 && timeout_seconds_ > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - w.started).count() >
              timeout_seconds_) {
        kill(-w.pid, SIGKILL);
        kill(w.pid, SIGKILL);
        r = waitpid(w.pid, &status, 0);
        timed_out = true;
      }
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++i;
        continue;
      }
      done.push_back(collect(w, status, timed_out));
      running_.erase(running_.begin() + std::ptrdiff_t(i));
    }
    if (!done.empty() || running_.empty() || stop()) return done;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void WorkerPool::kill_all() {
  for (const auto& w : running_) {
    kill(-w.pid, SIGKILL);
    kill(w.pid, SIGKILL);
  }
  for (const auto& w : running_) {
    int status = 0;
    while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::error_code ec;
    std::filesystem::remove(w.report, ec);
    std::filesystem::remove(w.log, ec);
  }
  running_.clear();
}

}  // namespace normcheck::runner
