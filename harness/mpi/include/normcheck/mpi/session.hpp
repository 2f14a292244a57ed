// MPI for the lifetime of a run, and the few whole-group operations the
// driver needs between kernel calls: agreeing on a value, gathering bytes
// on rank 0 and sharing rank 0's answer.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace normcheck::mpi {

// MPI_Init on construction (unless something initialized MPI before),
// MPI_Finalize on destruction (only if this object initialized it).
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  MPI_Comm comm() const { return MPI_COMM_WORLD; }
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  bool owns_ = false;
  int rank_ = 0, size_ = 1;
};

// The largest of every rank's `value`.
int max_over_ranks(MPI_Comm comm, int value);
bool all_ranks(MPI_Comm comm, bool value);

// Rank 0 gets every rank's bytes in rank order; the others get {}.
std::vector<std::string> gather_on_root(MPI_Comm comm, const std::string& bytes);

// Rank 0's `value` on every rank.
int from_root(MPI_Comm comm, int value);

}  // namespace normcheck::mpi
