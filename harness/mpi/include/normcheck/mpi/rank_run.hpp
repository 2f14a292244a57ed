// What one rank's worker produced for one case, its transfer to rank 0,
// and the merge of all ranks' into the single worker report and process
// outcome that runner::judge_case judges (its in-process SyncBN produces
// the same from one worker running the ranks as threads).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "normcheck/runner/child_report.hpp"
#include "normcheck/runner/judge.hpp"

namespace normcheck::mpi {

struct RankRun {
  std::string report;  // the worker's report stream (runner::ReportWriter bytes)
  runner::ProcessOutcome process;
};

std::string encode_rank_run(const RankRun& r);
// std::runtime_error for bytes that are not an encoded RankRun.
RankRun decode_rank_run(std::string_view bytes);

struct MergedRun {
  runner::ChildReport report;
  runner::ProcessOutcome process;
};

// Rank order in, one report out: the k-th calls of all ranks become one
// call (finished when all finished; the first failing rank's status and
// message, "rank r: ..."; overruns and modified inputs named by rank),
// outputs are united (their names already carry the rank), supports() is
// the first rank's that declined, and the process outcome is the first
// unclean rank's (its log tail marked with the rank).
MergedRun merge_ranks(const std::vector<RankRun>& ranks);

}  // namespace normcheck::mpi
