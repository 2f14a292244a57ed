#include "normcheck/runner/worker_pool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace normcheck::runner {

namespace {

constexpr std::size_t kLogTailBytes = 2000;
// Longest a wait sleeps before it looks at timeouts and interrupts again.
constexpr int kPollMilliseconds = 50;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

std::string read_all(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size <= 0) return {};
  std::string s(std::size_t(st.st_size), '\0');
  std::size_t got = 0;
  while (got < s.size()) {
    const ssize_t n = pread(fd, s.data() + got, s.size() - got, off_t(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += std::size_t(n);
  }
  s.resize(got);
  return s;
}

std::string tail(const std::string& text) {
  if (text.size() <= kLogTailBytes) return text;
  std::string t = text.substr(text.size() - kLogTailBytes);
  const auto newline = t.find('\n');
  return "..." + (newline == std::string::npos ? t : t.substr(newline));
}

// False when the reader is gone: EPIPE, never SIGPIPE, whatever the host
// process does with SIGPIPE (a library must not rely on the CLI ignoring it;
// an idle worker can die between tasks). SIGPIPE is blocked for this thread
// around the write and a pending one taken back, as in POSIX's advice.
bool write_task(int fd, std::size_t task) {
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  const auto* p = reinterpret_cast<const char*>(&task);
  std::size_t left = sizeof task;
  bool ok = true;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    p += n;
    left -= std::size_t(n);
  }
  if (!ok && errno == EPIPE && !was_pending) {
    const timespec now{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return ok;
}

// Reads one task number; false on end of file or error.
bool read_task(int fd, std::size_t& task) {
  auto* p = reinterpret_cast<char*>(&task);
  std::size_t got = 0;
  while (got < sizeof task) {
    const ssize_t n = ::read(fd, p + got, sizeof task - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += std::size_t(n);
  }
  return true;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The processes whose parent is this process (all its threads' children)
// and that live outside its session: workers start their own session
// (worker_main), so everything a worker starts is outside it too, and no
// descendant of a worker can join it again (setpgid stays within a
// session). Children the host process started itself (a Python caller's
// subprocesses, a sanitizer's symbolizer) share its session and are left
// alone.
std::vector<pid_t> own_children_outside_session() {
  std::vector<pid_t> pids;
  const pid_t session = getsid(0);
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "children");
    pid_t pid = 0;
    while (in >> pid)
      if (getsid(pid) != session) pids.push_back(pid);
  }
  return pids;
}

}  // namespace

bool worker_reusable(const ChildReport& report) {
  if (!report.complete || !report.harness_error.empty() || !report.fixture_error.empty())
    return false;
  for (const auto& call : report.calls)
    if (!call.finished || !call.overruns.empty() || !call.modified_inputs.empty() ||
        (call.status != NC_OK && call.status != NC_UNSUPPORTED))
      return false;
  return true;
}

WorkerPool::WorkerPool(int slots, double timeout_seconds, Body body)
    : slots_(slots < 1 ? 1 : slots),
      timeout_seconds_(timeout_seconds),
      body_(std::move(body)),
      harness_pid_(getpid()),
      workers_(std::size_t(slots_)) {
  // Orphans of a worker (a kernel's grandchild that called setsid()) are
  // re-parented here instead of to init, where reap_strays() finds them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

WorkerPool::~WorkerPool() {
  kill_all();
  for (auto& w : workers_) retire(w);
  reap_strays();
}

void WorkerPool::spawn(Worker& w) {
  int command[2], done[2];
  if (pipe2(command, O_CLOEXEC) != 0) fail("cannot create a pipe for a worker");
  if (pipe2(done, O_CLOEXEC) != 0) {
    ::close(command[0]);
    ::close(command[1]);
    fail("cannot create a pipe for a worker");
  }
  w.report = memfd_create("normcheck-report", MFD_CLOEXEC);
  w.log = memfd_create("normcheck-log", MFD_CLOEXEC);
  if (w.report < 0 || w.log < 0) fail("cannot create a worker's report file (memfd)");
  std::fflush(nullptr);  // nothing buffered in the harness is written twice
  const pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    ::close(command[1]);
    ::close(done[0]);
    w.command = command[0];
    w.done = done[1];
    worker_main(w);
  }
  ::close(command[0]);
  ::close(done[1]);
  // No setpgid(pid, pid) here: the worker's setsid() fails once it leads a
  // group. Until it has run, the worker has started nothing, and retire()
  // kills its pid as well as its group.
  w.pid = pid;
  w.command = command[1];
  w.done = done[0];
  w.busy = false;
  ++started_;
}

void WorkerPool::worker_main(const Worker& w) const {
  // Its own session (and so its own process group, killed as one): what it
  // starts can never rejoin the harness's session, which is how
  // reap_strays() tells it from the host's own children.
  setsid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != harness_pid_) _exit(112);  // the harness died before prctl took effect
  // Other workers' pipes and files are not this worker's business; holding
  // their ends would also hide their deaths from the harness.
  for (const auto& other : workers_) {
    if (&other == &w || other.pid < 0) continue;
    for (int fd : {other.command, other.done, other.report, other.log})
      if (fd >= 0) ::close(fd);
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGINT, &dfl, nullptr);
  sigaction(SIGTERM, &dfl, nullptr);
  sigaction(SIGPIPE, &dfl, nullptr);
  dup2(w.log, STDOUT_FILENO);
  dup2(w.log, STDERR_FILENO);
  std::size_t task = 0;
  while (read_task(w.command, task)) {
    // Each task starts with an empty report and log (stdout and stderr
    // share one open file description, so one lseek moves both).
    std::fflush(nullptr);
    if (ftruncate(w.report, 0) != 0 || lseek(w.report, 0, SEEK_SET) < 0) _exit(113);
    if (ftruncate(w.log, 0) == 0) lseek(STDOUT_FILENO, 0, SEEK_SET);
    ReportWriter out(w.report);
    try {
      body_(task, out);
    } catch (const std::exception& e) {
      out.harness_error(e.what());
    } catch (...) {
      out.harness_error("unknown exception");
    }
    std::fflush(nullptr);
    if (!write_task(w.done, task)) break;
  }
  // _exit, not exit: no atexit handlers or static destructors of the
  // harness's libraries (HDF5 would close the parent's files) run here.
  _exit(0);
}

void WorkerPool::start(std::size_t task) {
  auto it = std::find_if(workers_.begin(), workers_.end(),
                         [](const Worker& w) { return w.pid > 0 && !w.busy; });
  if (it == workers_.end())
    it = std::find_if(workers_.begin(), workers_.end(), [](const Worker& w) { return w.pid < 0; });
  if (it == workers_.end()) throw std::logic_error("WorkerPool::start with every slot busy");
  if (it->pid < 0) spawn(*it);
  it->task = task;
  it->busy = true;
  it->started = std::chrono::steady_clock::now();
  ++busy_;
  if (!write_task(it->command, task)) {
    // The idle worker is gone (a late kernel thread killed it): start
    // another for this task.
    retire(*it);
    spawn(*it);
    it->busy = true;
    it->task = task;
    if (!write_task(it->command, task)) fail("cannot hand a task to a new worker");
  }
}

void WorkerPool::retire(Worker& w) {
  if (w.pid > 0) {
    kill(-w.pid, SIGKILL);
    kill(w.pid, SIGKILL);
    int status = 0;
    while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(w.command);
  close_fd(w.done);
  close_fd(w.report);
  close_fd(w.log);
  if (w.busy) --busy_;
  w.busy = false;
  w.pid = -1;
}

void WorkerPool::reap_strays() {
  // Bounded: each round kills what is there now; their own orphans arrive
  // here when they die and are taken in the next round.
  for (int round = 0; round < 20; ++round) {
    bool any = false;
    for (pid_t pid : own_children_outside_session()) {
      const bool worker = std::any_of(workers_.begin(), workers_.end(),
                                      [pid](const Worker& w) { return w.pid == pid; });
      if (worker) continue;
      any = true;
      kill(pid, SIGKILL);
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (!any) return;
  }
}

WorkerPool::Finished WorkerPool::collect(Worker& w, int wait_status, bool exited,
                                         bool timed_out) {
  Finished f;
  f.task = w.task;
  f.report = parse_child_report(read_all(w.report));
  f.outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - w.started).count();
  f.outcome.timeout_seconds = timeout_seconds_;
  f.outcome.log_tail = tail(read_all(w.log));
  if (timed_out) {
    f.outcome.kind = ProcessOutcome::Kind::timed_out;
  } else if (!exited) {
    f.outcome.kind = ProcessOutcome::Kind::exited;  // the task ended, the worker lives on
    f.outcome.code = 0;
  } else if (WIFSIGNALED(wait_status)) {
    f.outcome.kind = ProcessOutcome::Kind::signaled;
    f.outcome.code = WTERMSIG(wait_status);
  } else {
    f.outcome.kind = ProcessOutcome::Kind::exited;
    f.outcome.code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  }
  w.busy = false;
  --busy_;
  if (exited || timed_out) {
    close_fd(w.command);
    close_fd(w.done);
    close_fd(w.report);
    close_fd(w.log);
    w.pid = -1;
    reap_strays();
  } else if (!worker_reusable(f.report)) {
    retire(w);
    reap_strays();
  }
  return f;
}

std::vector<WorkerPool::Finished> WorkerPool::wait(const std::function<bool()>& stop) {
  std::vector<Finished> finished;
  while (true) {
    std::vector<pollfd> fds;
    std::vector<Worker*> polled;
    int wait_ms = kPollMilliseconds;
    const auto now = std::chrono::steady_clock::now();
    for (auto& w : workers_) {
      if (!w.busy) continue;
      if (timeout_seconds_ > 0) {
        const double left =
            timeout_seconds_ - std::chrono::duration<double>(now - w.started).count();
        if (left <= 0) {
          kill(-w.pid, SIGKILL);
          kill(w.pid, SIGKILL);
          int status = 0;
          while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
          }
          finished.push_back(collect(w, status, true, true));
          continue;
        }
        wait_ms = std::min(wait_ms, int(left * 1000.0) + 1);
      }
      // A worker can die with its pipe still open elsewhere (a kernel's
      // child inherited it), so its death is looked for directly too.
      if (int status = 0; waitpid(w.pid, &status, WNOHANG) == w.pid) {
        finished.push_back(collect(w, status, true, false));
        continue;
      }
      fds.push_back({w.done, POLLIN, 0});
      polled.push_back(&w);
    }
    if (!finished.empty() || fds.empty()) return finished;
    const int ready = poll(fds.data(), nfds_t(fds.size()), wait_ms);
    if (ready < 0 && errno != EINTR) fail("poll on worker pipes failed");
    for (std::size_t i = 0; ready > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Worker& w = *polled[i];
      std::size_t task = 0;
      if (read_task(w.done, task) && task == w.task) {
        finished.push_back(collect(w, 0, false, false));
      } else {
        // End of file: the worker died during the task.
        int status = 0;
        while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
        }
        finished.push_back(collect(w, status, true, false));
      }
    }
    if (!finished.empty() || stop()) return finished;
  }
}

void WorkerPool::kill_all() {
  for (auto& w : workers_)
    if (w.busy) retire(w);
  reap_strays();
}

}  // namespace normcheck::runner
