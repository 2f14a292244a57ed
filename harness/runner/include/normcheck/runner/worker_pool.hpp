// Worker processes, one per (case, backend) task, at most `slots` at once.
//
// Design: fork after loading. The harness loads the backend plugins and the
// case before forking, so a worker starts instantly with everything mapped
// (copy-on-write) and needs no serialization of inputs; it sends its
// outputs back through a report file (child_report.hpp). The harness itself
// never calls into a backend except its entry point, so whatever a kernel
// does (SIGSEGV, abort(), exit(), an endless loop, scribbling over memory)
// happens in the worker only. Consequence for plugins: they must not start
// threads or initialize devices when loaded or when their entry point is
// called, only on their first supports()/forward() call (a thread started
// before fork does not exist in the worker).
//
// Each worker runs in its own process group, so a Ctrl-C at the terminal
// reaches only the harness, which then stops its workers itself; a timeout
// kills the whole group (threads and any children the backend forked).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <vector>

#include "normcheck/runner/child_report.hpp"
#include "normcheck/runner/judge.hpp"

namespace normcheck::runner {

class WorkerPool {
 public:
  WorkerPool(int slots, double timeout_seconds);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();  // kills and reaps every worker still running, removes its scratch files

  bool full() const { return int(running_.size()) >= slots_; }
  bool empty() const { return running_.empty(); }
  std::size_t running() const { return running_.size(); }

  // Forks a worker that calls body(report_fd) and exits. Exceptions of
  // `body` are reported as harness errors in the report stream.
  void start(std::size_t task, const std::function<void(int report_fd)>& body);

  struct Finished {
    std::size_t task;
    ChildReport report;
    ProcessOutcome outcome;
  };
  // Returns as soon as at least one worker has ended (exited, died or was
  // killed for its timeout), or when stop() turns true.
  std::vector<Finished> wait(const std::function<bool()>& stop);

  // SIGKILL every running worker and reap it; its task is not reported.
  void kill_all();

 private:
  struct Worker {
    pid_t pid;
    std::size_t task;
    std::chrono::steady_clock::time_point started;
    std::filesystem::path report, log;
  };
  Finished collect(const Worker& w, int wait_status, bool timed_out) const;

  int slots_;
  double timeout_seconds_;
  std::filesystem::path scratch_;
  std::size_t serial_ = 0;
  std::vector<Worker> running_;
};

}  // namespace normcheck::runner
