// The worker's side of running a case: every backend call the case needs
// (scenarios.hpp), in order, each on guarded buffers, each announced to the
// report stream before it is made and its outputs written after it.
//
// Runs inside the worker process: a backend that crashes, aborts or hangs
// takes down only the worker (see runner.hpp for the process design).
#pragma once

#include <memory>
#include <string>

#include "normcheck/backend.h"
#include "normcheck/fixture/case.hpp"
#include "normcheck/runner/child_report.hpp"

namespace normcheck::runner {

// Calls `backend` on case `c`, writing what happens to `out`. Does not call
// finish(); exceptions of the harness's own code propagate.
void execute_case(const nc_backend_v1& backend, const fixture::Case& c, ReportWriter& out);

// One rank of a SyncBN case driven call by call from outside (run-mpi: the
// rank process tells its worker when to call, between all-reduces it
// serves). Same buffers, bindings, checks and declines as execute_case;
// outputs are emitted as "<prefix>rank<r>/<tensor>", the names the judge
// expects from the in-process SyncBN.
class ShardExecutor {
 public:
  // `collectives` is what the backend gets in its forward and backward args.
  ShardExecutor(const nc_backend_v1& backend, const fixture::Case& c, int rank, int ranks,
                const nc_collectives* collectives, ReportWriter& out);
  ~ShardExecutor();
  ShardExecutor(const ShardExecutor&) = delete;
  ShardExecutor& operator=(const ShardExecutor&) = delete;

  // supports() of the whole-batch problem, as the in-process runner asks it.
  nc_status supports();
  // Training forward on the shard (running statistics updated).
  nc_status forward(const std::string& prefix);
  // Backward of the last forward with the same prefix (declined when the
  // backend's table has no backward()).
  nc_status backward(const std::string& prefix);
  // Once every call has returned: the late-write check (execute_case's).
  void finish();

  // The call names, shared by every rank (and the merge on rank 0).
  static std::string call_name(const char* what, int ranks, const std::string& prefix);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace normcheck::runner
