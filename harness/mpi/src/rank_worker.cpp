#include "normcheck/mpi/rank_worker.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "normcheck/runner/executor.hpp"
#include "normcheck/mpi/worker_protocol.hpp"

namespace normcheck::mpi {

namespace {

constexpr std::size_t kLogTailBytes = 2000;

UniqueFd anonymous_file(const char* name) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("memfd_create failed: ") + std::strerror(errno));
  return UniqueFd(fd);
}

std::string tail(const std::string& text) {
  if (text.size() <= kLogTailBytes) return text;
  const std::string t = text.substr(text.size() - kLogTailBytes);
  const auto newline = t.find('\n');
  return "..." + (newline == std::string::npos ? t : t.substr(newline));
}

// The worker's all-reduce: the rank process makes it (worker_protocol.hpp).
int forward_allreduce(void* context, double* data, std::int64_t count) {
  auto& channel = *static_cast<Channel*>(context);
  if (count < 0 || (data == nullptr && count > 0)) return -1;
  if (!channel.send(wire::reduce_request, wire::encode_doubles({data, std::size_t(count)})))
    return -1;
  const auto answer = channel.receive();
  if (!answer || answer->tag != wire::reduce_answer) return -1;
  const std::int32_t rc = wire::decode_i32(answer->payload, -1);
  if (rc != 0) return rc;
  std::vector<double> sums;
  if (!wire::decode_doubles(std::string_view(answer->payload).substr(sizeof rc), sums) ||
      sums.size() != std::size_t(count))
    return -1;
  std::copy(sums.begin(), sums.end(), data);
  return 0;
}

nc_status serve(runner::ShardExecutor& executor, const Frame& command) {
  switch (command.tag) {
    case wire::supports:
      return executor.supports();
    case wire::forward:
      return executor.forward(command.payload);
    case wire::backward:
      return executor.backward(command.payload);
    default:
      throw std::logic_error(std::string("unknown command '") + command.tag + "'");
  }
}

// In the worker: answers commands until told to quit or orphaned. Never returns.
[[noreturn]] void worker_main(Channel& channel, int report_fd, int log_fd,
                              const nc_backend_v1& backend, const fixture::Case& c, int rank,
                              int ranks) {
  setpgid(0, 0);  // a timeout kills the worker's whole group: its threads and any children
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGINT, &dfl, nullptr);
  sigaction(SIGTERM, &dfl, nullptr);
  dup2(log_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  runner::ReportWriter out(report_fd);
  nc_collectives collectives{&channel, rank, ranks, &forward_allreduce};
  try {
    runner::ShardExecutor executor(backend, c, rank, ranks, &collectives, out);
    while (const auto command = channel.receive()) {
      if (command->tag == wire::quit) {
        executor.finish();
        out.finish();
        break;
      }
      nc_status status = NC_INTERNAL_ERROR;
      try {
        status = serve(executor, *command);
      } catch (const std::exception& e) {
        out.harness_error(e.what());
      }
      if (!channel.send(wire::done, wire::encode_i32(std::int32_t(status)))) break;
    }
  } catch (const std::exception& e) {
    out.harness_error(e.what());
  }
  // _exit, not exit: the atexit handlers of MPI, HDF5 and the sanitizers
  // belong to the rank process, not to this copy of it.
  _exit(0);
}

}  // namespace

RankWorker::RankWorker(const nc_backend_v1& backend, const fixture::Case& c,
                       MpiCollectives& collectives, double timeout_seconds)
    : collectives_(collectives),
      timeout_seconds_(timeout_seconds),
      started_(std::chrono::steady_clock::now()),
      deadline_(timeout_seconds > 0
                    ? started_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(timeout_seconds))
                    : std::chrono::steady_clock::time_point::max()),
      channel_(UniqueFd()),
      report_(anonymous_file("normcheck-mpi-report")),
      log_(anonymous_file("normcheck-mpi-log")) {
  auto [mine, theirs] = channel_pair();
  std::fflush(nullptr);  // nothing buffered in the rank process is written twice
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid_ == 0) {
    mine.close();  // so that the rank process sees end-of-file when this worker dies
    worker_main(theirs, report_.get(), log_.get(), backend, c, collectives.rank(),
                collectives.size());
  }
  setpgid(pid_, pid_);  // also here: no race with the worker's own call
  channel_ = std::move(mine);
}

RankWorker::~RankWorker() {
  if (pid_ > 0) kill_worker();
}

void RankWorker::kill_worker() {
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  wait_status_ = status;
  pid_ = -1;
  channel_.close();
}

void RankWorker::reap() {
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno != EINTR)) {
      wait_status_ = status;
      pid_ = -1;
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline_) {
      timed_out_ = true;
      kill_worker();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool RankWorker::call(char command, const std::string& prefix) {
  std::optional<nc_status> status;
  if (pid_ > 0 && channel_.send(command, prefix)) {
    while (true) {
      Frame f;
      const auto wait = channel_.receive_until(deadline_, f);
      if (wait == Channel::Wait::timed_out) {
        timed_out_ = true;
        kill_worker();
        break;
      }
      if (wait == Channel::Wait::closed) break;  // the worker died; finish() reaps it
      if (f.tag == wire::done) {
        status = nc_status(wire::decode_i32(f.payload, NC_INTERNAL_ERROR));
        break;
      }
      if (f.tag != wire::reduce_request) {  // not our protocol: stop the worker
        kill_worker();
        break;
      }
      std::vector<double> values;
      const bool ok = wire::decode_doubles(f.payload, values) && collectives_.allreduce(values);
      if (!channel_.send(wire::reduce_answer,
                         wire::encode_i32(ok ? 0 : -1) + (ok ? wire::encode_doubles(values) : "")))
        break;
    }
  }
  collectives_.leave();
  return status == NC_OK;
}

RankRun RankWorker::finish() {
  if (pid_ > 0 && channel_.send(wire::quit)) {
    Frame f;
    // The worker closes its end by exiting; anything else it sends now is ignored.
    while (true) {
      const auto wait = channel_.receive_until(deadline_, f);
      if (wait == Channel::Wait::timed_out) timed_out_ = true;
      if (wait != Channel::Wait::frame) break;
    }
  }
  if (pid_ > 0) reap();
  RankRun run;
  run.report = read_from_start(report_.get());
  run.process.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  run.process.timeout_seconds = timeout_seconds_;
  run.process.log_tail = tail(read_from_start(log_.get()));
  if (timed_out_) {
    run.process.kind = runner::ProcessOutcome::Kind::timed_out;
  } else if (WIFSIGNALED(wait_status_)) {
    run.process.kind = runner::ProcessOutcome::Kind::signaled;
    run.process.code = WTERMSIG(wait_status_);
  } else {
    run.process.kind = runner::ProcessOutcome::Kind::exited;
    run.process.code = WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : -1;
  }
  return run;
}

}  // namespace normcheck::mpi
