#include "normcheck/mpi/shards.hpp"

#include <fmt/format.h>

#include <numeric>

namespace normcheck::mpi {

SyncSelection select_sync_cases(const runner::CaseSource& source,
                                const std::vector<std::size_t>& candidates, int ranks) {
  SyncSelection s;
  for (const std::size_t i : candidates) {
    const model::Problem p = model::parse_descriptor(source.descriptor(i));
    if (p.shards.empty()) {
      ++s.not_sync;
      continue;
    }
    s.rank_counts.insert(p.shards.size());
    if (p.shards.size() == std::size_t(ranks))
      s.cases.push_back(i);
    else
      ++s.other_rank_counts;
  }
  return s;
}

std::string describe_skipped(const SyncSelection& s, int ranks) {
  std::string lines;
  if (s.other_rank_counts > 0) {
    std::vector<std::size_t> others;
    for (const auto n : s.rank_counts)
      if (n != std::size_t(ranks)) others.push_back(n);
    lines += fmt::format(
        "skipped {} SyncBN case{} for {} ranks (run again with mpirun -np N for those)\n",
        s.other_rank_counts, s.other_rank_counts == 1 ? "" : "s", fmt::join(others, ", "));
  }
  if (s.not_sync > 0)
    lines +=
        fmt::format("skipped {} case{} without shards= (not SyncBN; normcheck run checks them)\n",
                    s.not_sync, s.not_sync == 1 ? "" : "s");
  return lines;
}

}  // namespace normcheck::mpi
