// normcheck run-mpi: SyncBatchNorm over MPI. Started by mpirun with R
// ranks, it runs every SyncBN case with R shards of a fixture folder on
// each backend: rank r runs its shard in its own worker process with MPI
// collectives, rank 0 gathers every rank's outputs, judges them against the
// golden BatchNorm over the whole batch (runner::judge_case) and writes one
// report. No MPI type appears in this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "normcheck/fixture/case_size.hpp"

namespace normcheck::mpi {

struct RunMpiOptions {
  std::string fixtures;  // a folder of fixture files, or
  std::string suite;     // a named suite: syncbn, quick, nightly
  std::vector<std::string> backends;
  std::string tolerances;  // default: reports/tolerances/default.toml, else built-in
  std::string report = "reports/latest-mpi";
  std::string filter;             // runner::Selection's glob or "re:" regex
  double timeout_seconds = 60.0;  // per case and backend, all ranks' calls; 0: none
  std::string command;            // the command line, for the report
  std::uint64_t max_case_bytes = fixture::kDefaultMaxCaseBytes;  // fixture/case_size.hpp
};

// The exit code, the same on every rank: 0 every check passed, 1 some
// check failed, 2 bad input (or an internal error of the harness, said to be one). Whatever
// goes wrong on any rank is agreed on by all ranks before they stop, so no
// rank is left waiting in MPI; the message is printed by rank 0, or by the
// rank that found it when rank 0 did not.
int run_mpi(const RunMpiOptions& options);

}  // namespace normcheck::mpi
