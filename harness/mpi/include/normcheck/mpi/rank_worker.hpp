// A rank's worker process for one case. The backend runs in the worker,
// never in the rank process, so a kernel that crashes, aborts or hangs
// takes down only its worker: the rank process stays in the MPI job, its
// collectives report the worker as gone (MpiCollectives::leave), the other
// ranks' kernels get a failing all-reduce instead of hanging, and the run
// still ends with a report. The worker cannot use MPI (a forked child of an
// MPI process must not), so it asks the rank process to all-reduce for it
// over a socket (worker_protocol.hpp); the rank process makes the real
// MPI_Allreduce.
//
// As with runner::WorkerPool, the backend plugin and the case are loaded
// before the fork; plugins must not start threads when loaded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "normcheck/backend.h"
#include "normcheck/fixture/case.hpp"
#include "normcheck/mpi/channel.hpp"
#include "normcheck/mpi/collectives.hpp"
#include "normcheck/mpi/rank_run.hpp"

namespace normcheck::mpi {

class RankWorker {
 public:
  // Forks the worker. std::runtime_error when it cannot be started.
  // `timeout_seconds` (0: none) bounds the whole case, all calls together.
  RankWorker(const nc_backend_v1& backend, const fixture::Case& c, MpiCollectives& collectives,
             double timeout_seconds);
  ~RankWorker();  // kills and reaps a worker still running
  RankWorker(const RankWorker&) = delete;
  RankWorker& operator=(const RankWorker&) = delete;

  // Has the worker make one call (wire::supports, forward or backward),
  // serving its all-reduces until it returns, then leaves the collective
  // round. Collective: every rank calls it with the same command. True when
  // the call returned NC_OK; false for any other status, a dead worker or a
  // timeout (the worker is then killed).
  bool call(char command, const std::string& prefix = {});

  // Tells the worker to finish, waits for it and collects its report.
  RankRun finish();

 private:
  void kill_worker();
  void reap();  // waits for the worker to exit, killing it at the deadline

  MpiCollectives& collectives_;
  double timeout_seconds_;
  std::chrono::steady_clock::time_point started_, deadline_;
  pid_t pid_ = -1;  // -1 once reaped
  int wait_status_ = 0;
  bool timed_out_ = false;
  Channel channel_;
  UniqueFd report_, log_;
};

}  // namespace normcheck::mpi
