// The persistent worker pool: workers live across tasks, a task that kills
// or hangs its worker is charged alone, and nothing a task starts outlives
// the pool. Bodies here are harness code standing in for kernels.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "normcheck/runner/worker_pool.hpp"

using namespace normcheck::runner;

namespace {

// Runs tasks 0..count-1 to the end; returns the finished tasks by number.
std::map<std::size_t, WorkerPool::Finished> run_all(WorkerPool& pool, std::size_t count) {
  std::map<std::size_t, WorkerPool::Finished> done;
  std::size_t next = 0;
  while (next < count || !pool.empty()) {
    while (next < count && !pool.full()) pool.start(next++);
    for (auto& f : pool.wait([] { return false; })) done.emplace(f.task, std::move(f));
  }
  return done;
}

// A well-behaved task: supports() and one successful call.
void clean_task(ReportWriter& out) {
  out.supports(NC_OK, "");
  out.begin_call("forward", {"y"});
  out.end_call(NC_OK, "", 0.0);
  out.finish();
}

bool alive(pid_t pid) {
  return kill(pid, 0) == 0;
}

}  // namespace

TEST_CASE("workers are started once per slot and reused for every clean task") {
  WorkerPool pool(2, 10.0, [](std::size_t, ReportWriter& out) { clean_task(out); });
  const auto done = run_all(pool, 200);
  REQUIRE(done.size() == 200);
  for (const auto& [task, f] : done) {
    CHECK(f.report.complete);
    CHECK(f.outcome.clean());
  }
  CHECK(pool.workers_started() == 2);
}

TEST_CASE("a crashing task among 1000 costs one respawn and no other task's result") {
  WorkerPool pool(2, 10.0, [](std::size_t task, ReportWriter& out) {
    out.supports(NC_OK, "");
    out.begin_call("forward", {"y"});
    if (task == 500) raise(SIGSEGV);
    out.end_call(NC_OK, "", 0.0);
    out.finish();
  });
  const auto done = run_all(pool, 1000);
  REQUIRE(done.size() == 1000);
  for (const auto& [task, f] : done) {
    if (task == 500) {
      // Under AddressSanitizer the worker reports the SEGV itself and exits
      // (or aborts); without it, it dies of the signal.
      CHECK_FALSE(f.outcome.clean());
      if (f.outcome.kind == ProcessOutcome::Kind::signaled)
        CHECK((f.outcome.code == SIGSEGV || f.outcome.code == SIGABRT));
      REQUIRE(f.report.unfinished_call() != nullptr);  // the call that was running is named
      CHECK(f.report.unfinished_call()->name == "forward");
    } else {
      CHECK(f.report.complete);
      CHECK(f.outcome.clean());
    }
  }
#if defined(__SANITIZE_ADDRESS__)
  // ASan's own SEGV handling decides whether the worker survives its report.
  CHECK(pool.workers_started() <= 3);
#else
  CHECK(pool.workers_started() == 3);
#endif
}

TEST_CASE("a task that misbehaves without dying retires its worker") {
  WorkerPool pool(1, 10.0, [](std::size_t task, ReportWriter& out) {
    out.supports(NC_OK, "");
    out.begin_call("forward", {"y"});
    out.end_call(NC_OK, "", 0.0);
    if (task == 1) out.overrun("y: 3 guard bytes changed after the tensor");
    out.finish();
  });
  const auto done = run_all(pool, 4);
  REQUIRE(done.size() == 4);
  CHECK(done.at(1).outcome.clean());  // the task itself ended normally...
  CHECK(pool.workers_started() == 2);  // ...but its worker was not trusted again
}

TEST_CASE("exit() and an exception in a task are charged to that task") {
  WorkerPool pool(1, 10.0, [](std::size_t task, ReportWriter& out) {
    if (task == 0) std::exit(0);
    if (task == 1) throw std::runtime_error("boom");
    clean_task(out);
  });
  const auto done = run_all(pool, 3);
  CHECK(done.at(0).outcome.kind == ProcessOutcome::Kind::exited);
  CHECK_FALSE(done.at(0).report.complete);
  CHECK(done.at(1).report.harness_error == "boom");
  CHECK(done.at(2).report.complete);
}

TEST_CASE("a hanging task is killed at its timeout, with the process it started in its own session") {
  // The grandchild calls setsid(): it leaves the worker's process group, so
  // killing the group misses it; the subreaper sweep must not.
  const std::string pid_file = "/tmp/normcheck-worker-pool-test-" + std::to_string(getpid());
  {
    WorkerPool pool(1, 0.5, [&pid_file](std::size_t task, ReportWriter& out) {
      out.supports(NC_OK, "");
      out.begin_call("forward", {"y"});
      if (task == 0) {
        if (fork() == 0) {
          setsid();
          std::ofstream(pid_file) << getpid();
          while (true) pause();
        }
        while (true) pause();
      }
      out.end_call(NC_OK, "", 0.0);
      out.finish();
    });
    const auto start = std::chrono::steady_clock::now();
    const auto done = run_all(pool, 2);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(done.at(0).outcome.kind == ProcessOutcome::Kind::timed_out);
    CHECK(done.at(1).report.complete);
    CHECK(seconds < 5.0);  // bound: 0.5 s timeout plus process start-up, far from a hang
  }
  pid_t grandchild = 0;
  std::ifstream(pid_file) >> grandchild;
  std::remove(pid_file.c_str());
  REQUIRE(grandchild > 0);
  CHECK_FALSE(alive(grandchild));
}

TEST_CASE("a worker's output is reported with its task, not with the next one") {
  WorkerPool pool(1, 10.0, [](std::size_t task, ReportWriter& out) {
    std::printf("output of task %zu\n", task);
    if (task == 1) {
      std::fflush(stdout);
      _exit(3);  // not abort(): Catch2's signal handler would print into the log too
    }
    clean_task(out);
  });
  const auto done = run_all(pool, 3);
  CHECK(done.at(1).outcome.log_tail == "output of task 1\n");
  CHECK(done.at(2).outcome.log_tail == "output of task 2\n");
}

TEST_CASE("a child the host process started itself outlives the pool") {
  // The pool sweeps processes that escaped its workers, not the host's own
  // children (a Python caller's subprocesses, a sanitizer's symbolizer).
  const pid_t own = fork();
  if (own == 0) {
    while (true) pause();
  }
  REQUIRE(own > 0);
  {
    WorkerPool pool(1, 10.0, [](std::size_t task, ReportWriter& out) {
      if (task == 0) _exit(3);  // a worker death runs the sweep
      clean_task(out);
    });
    const auto done = run_all(pool, 2);
    CHECK(done.at(1).report.complete);
  }
  CHECK(alive(own));
  kill(own, SIGKILL);
  waitpid(own, nullptr, 0);
}

TEST_CASE("a worker that died while idle costs the host no SIGPIPE") {
  // Whatever the host does with SIGPIPE (here: the default, which ends the
  // process), giving a task to a dead idle worker starts another.
  struct sigaction dfl {}, previous{};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, &previous);
  WorkerPool pool(1, 10.0, [](std::size_t task, ReportWriter& out) {
    if (task == 0)  // ends the worker just after it reported the task done
      std::thread([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        _exit(0);
      }).detach();
    clean_task(out);
  });
  REQUIRE(run_all(pool, 1).at(0).report.complete);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  pool.start(1);
  const auto done = pool.wait([] { return false; });
  sigaction(SIGPIPE, &previous, nullptr);
  REQUIRE(done.size() == 1);
  CHECK(done[0].report.complete);
  CHECK(pool.workers_started() == 2);
}
