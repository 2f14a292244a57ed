// The nc_collectives of SyncBatchNorm over MPI: allreduce_sum_f64 is
// MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_DOUBLE, MPI_SUM, comm).
// The backend sees only the plain C table of the ABI, never an MPI type,
// so one plugin serves MPI, NCCL-style or in-process launchers alike.
//
// One object spans one kernel call on every rank. A plain MPI_Allreduce
// hangs forever when one rank's kernel returns (an error, a bug, a crash in
// its worker) while the others wait for it. So every all-reduce is preceded
// by a small header all-reduce in which each rank says whether it is still
// inside its kernel and how many values it sums; a rank whose kernel has
// returned calls leave() and keeps answering headers as "gone" until every
// rank is gone. An all-reduce that some rank can no longer match, or whose
// counts differ between ranks, returns nonzero on every rank still inside
// its kernel instead of hanging (the semantics of runner::InProcessGroup).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>

#include "normcheck/backend.h"

namespace normcheck::mpi {

class MpiCollectives {
 public:
  explicit MpiCollectives(MPI_Comm comm);
  MpiCollectives(const MpiCollectives&) = delete;
  MpiCollectives& operator=(const MpiCollectives&) = delete;

  // The table for a kernel running in this process; valid while *this lives.
  const nc_collectives* table() const { return &table_; }

  // Sums `values` over all ranks in place. False (values unchanged) when
  // another rank has left or sums another number of values.
  bool allreduce(std::span<double> values);

  // This rank's kernel has returned: answer the other ranks' headers until
  // every rank has left. Call exactly once per kernel call, on every rank.
  void leave();

  int rank() const { return table_.rank; }
  int size() const { return table_.size; }

 private:
  struct Header {
    bool anyone_left = false, everyone_left = false, counts_agree = false;
  };
  Header exchange_header(bool left, std::int64_t count);
  static int allreduce_entry(void* context, double* data, std::int64_t count);

  MPI_Comm comm_;
  nc_collectives table_{};
};

}  // namespace normcheck::mpi
