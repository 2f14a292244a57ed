// The worker's side of one SyncBN case on one rank: the backend calls on
// this rank's shard, each on guarded buffers (runner::GuardedBuffer),
// announced to the report stream before it is made, its outputs emitted
// after it as "rank<r>/<tensor>" (prefixed "rerun/" in the determinism
// rerun), exactly as the in-process SyncBN of runner/executor.cpp names
// them, so runner::judge_case judges the gathered outputs unchanged.
#pragma once

#include <memory>
#include <string>

#include "normcheck/backend.h"
#include "normcheck/fixture/case.hpp"
#include "normcheck/runner/child_report.hpp"

namespace normcheck::mpi {

class ShardExecutor {
 public:
  // `collectives` is what the backend gets in its forward and backward args.
  ShardExecutor(const nc_backend_v1& backend, const fixture::Case& c, int rank, int ranks,
                const nc_collectives* collectives, runner::ReportWriter& out);
  ~ShardExecutor();
  ShardExecutor(const ShardExecutor&) = delete;
  ShardExecutor& operator=(const ShardExecutor&) = delete;

  // supports() of the whole-batch problem, as the in-process runner asks it.
  nc_status supports();
  // Training forward on the shard (running statistics updated).
  nc_status forward(const std::string& prefix);
  // Backward of the last forward with the same prefix.
  nc_status backward(const std::string& prefix);

  // The call names, shared by every rank (and the merge on rank 0).
  static std::string call_name(const char* what, int ranks, const std::string& prefix);

 private:
  struct Run;
  nc_status invoke(const std::string& name, Run& run, bool backward);

  const nc_backend_v1& backend_;
  const fixture::Case& case_;
  int rank_, ranks_;
  const nc_collectives* collectives_;
  runner::ReportWriter& out_;
  std::unique_ptr<Run> run_;
};

}  // namespace normcheck::mpi
