// Persistent isolated workers: one process per slot, started once and fed
// task after task, replaced only when a task kills it, hangs, or leaves it
// in a state not to be trusted.
//
// Design: a worker is forked from the harness before anything large is
// loaded (the harness holds the case index, the loaded backend plugins and
// the results so far, never fixture data), so starting one costs about a
// millisecond and copies little. It inherits the backends (dlopen'ed once,
// entry point called, never a kernel) and runs `body(task, report)` for
// each task it is given: reading the case's fixture (HDF5 is untrusted
// work too: a crash or endless loop in the library costs that case) and
// calling the kernels on guarded buffers. The report goes to an in-memory
// file (memfd) the harness reads when the task ends or the worker dies, so
// nothing is left on disk whatever happens to either process.
//
// Isolation per task is what it was with one process per task: a crash,
// abort(), exit() or hang is charged to the task that was running (the
// report names the call), the worker is killed with every process it
// started, and the next task gets a fresh worker. A task whose report
// shows the kernel misbehaving without dying (guards or inputs damaged, an
// error status, late writes) also retires its worker: its memory may be
// corrupted.
//
// Containment: each worker is its own session; the harness is a child
// subreaper (prctl), so a kernel's grandchild that escapes the worker's
// process group with setsid() is re-parented to the harness when the worker
// dies and is killed there too. Only children outside the harness's session
// are swept: the host process's own children (a Python caller's
// subprocesses) are not the pool's to kill. Workers die with the harness
// (PR_SET_PDEATHSIG); a worker that died while idle is replaced when it is
// next given a task (EPIPE, never SIGPIPE for the host). Consequence for plugins:
// no threads or device contexts at load time or in the entry point (a
// thread started before fork does not exist in the worker).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

#include "normcheck/runner/child_report.hpp"
#include "normcheck/runner/judge.hpp"

namespace normcheck::runner {

class WorkerPool {
 public:
  // Runs in a worker for each task; writes the task's report.
  using Body = std::function<void(std::size_t task, ReportWriter& report)>;

  WorkerPool(int slots, double timeout_seconds, Body body);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();  // kills and reaps every worker and every process they left

  bool full() const { return busy_ >= std::size_t(slots_); }
  bool empty() const { return busy_ == 0; }
  std::size_t running() const { return busy_; }

  // Hands `task` to an idle worker, starting one when none is idle.
  void start(std::size_t task);

  struct Finished {
    std::size_t task;
    ChildReport report;
    ProcessOutcome outcome;
  };
  // Returns as soon as at least one task has ended (finished, its worker
  // died, or it ran past the timeout), or when stop() turns true.
  std::vector<Finished> wait(const std::function<bool()>& stop);

  // SIGKILL every worker (and its descendants) and reap it; running tasks
  // are not reported.
  void kill_all();

  // Worker processes started so far (respawns included).
  std::size_t workers_started() const { return started_; }

 private:
  struct Worker {
    pid_t pid = -1;
    int command = -1;  // harness → worker: task numbers
    int done = -1;     // worker → harness: the task number again when it ends
    int report = -1;   // memfd: the current task's report
    int log = -1;      // memfd: the worker's stdout and stderr during the current task
    bool busy = false;
    std::size_t task = 0;
    std::chrono::steady_clock::time_point started;
  };
  void spawn(Worker& w);
  [[noreturn]] void worker_main(const Worker& w) const;
  void retire(Worker& w);  // kill, reap, close
  Finished collect(Worker& w, int wait_status, bool exited, bool timed_out);
  void reap_strays();

  int slots_;
  double timeout_seconds_;
  Body body_;
  pid_t harness_pid_;
  std::vector<Worker> workers_;
  std::size_t busy_ = 0, started_ = 0;
};

// Whether a worker may take another task after this report: only when the
// kernel left no trace of misbehaving (see the header comment).
bool worker_reusable(const ChildReport& report);

}  // namespace normcheck::runner
