// In-process collectives for SyncBatchNorm: the ranks are threads of one
// process, and allreduce_sum_f64 meets them at a barrier. The sum runs in
// rank order, so every rank gets the same bits on every run (the
// determinism property holds for SyncBN too). Reusable by anything that
// drives ranks as threads; an MPI launcher supplies its own nc_collectives.
//
// A rank that returns from its kernel without matching the others' calls
// (or calls with another count) makes the pending and every later
// all-reduce fail with a nonzero status instead of hanging.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "normcheck/backend.h"

namespace normcheck::runner {

class InProcessGroup {
 public:
  explicit InProcessGroup(int size);
  InProcessGroup(const InProcessGroup&) = delete;
  InProcessGroup& operator=(const InProcessGroup&) = delete;

  // The table rank `rank` hands its backend; valid while the group lives.
  const nc_collectives* collectives(int rank) const { return &tables_[std::size_t(rank)]; }

  // A rank calls this when its kernel call returned: any all-reduce still
  // waiting for it can never complete.
  void leave(int rank);

  int allreduce(int rank, double* data, std::int64_t count);

 private:
  struct RankContext {
    InProcessGroup* group;
    int rank;
  };
  static int allreduce_entry(void* context, double* data, std::int64_t count);

  int size_;
  std::vector<RankContext> contexts_;
  std::vector<nc_collectives> tables_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<const double*> inputs_;
  std::vector<double> sum_;
  std::int64_t count_ = -1;
  int arrived_ = 0, left_ = 0;
  std::uint64_t generation_ = 0;
  bool failed_ = false;
};

}  // namespace normcheck::runner
