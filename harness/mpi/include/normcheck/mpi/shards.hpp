// Which SyncBatchNorm cases a run with R ranks takes, and which samples of
// a case each rank holds: rank r gets samples
// [sum(shards[:r]), sum(shards[:r+1])) of the batch, so the ranks' outputs
// concatenated in rank order are the output over the whole batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "normcheck/model/problem.hpp"
#include "normcheck/runner/case_source.hpp"
#include "normcheck/runner/scenarios.hpp"

namespace normcheck::mpi {

// Which samples a rank holds: one definition, the runner's (scenarios.hpp).
using runner::shard_first_sample;
using runner::shard_problem;

struct SyncSelection {
  std::vector<std::size_t> cases;      // indices of the SyncBN cases with `ranks` shards
  std::int64_t other_rank_counts = 0;  // SyncBN cases for another number of ranks
  std::int64_t not_sync = 0;           // cases without shards
  std::set<std::size_t> rank_counts;   // shard counts of all SyncBN candidates
};

// Sorts `candidates` (indices into `source`, e.g. runner::select_cases'
// answer to --filter) by what a run with `ranks` ranks can do with them.
SyncSelection select_sync_cases(const runner::CaseSource& source,
                                const std::vector<std::size_t>& candidates, int ranks);

// What was skipped and why, one line per reason ("" when nothing was).
std::string describe_skipped(const SyncSelection& s, int ranks);

}  // namespace normcheck::mpi
