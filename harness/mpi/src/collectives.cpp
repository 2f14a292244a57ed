#include "normcheck/mpi/collectives.hpp"

#include <algorithm>
#include <climits>

namespace normcheck::mpi {

namespace {

// MPI counts are int: longer all-reduces go in pieces (every rank cuts the
// same pieces, since the header made sure all counts agree).
constexpr std::int64_t kMaxPiece = INT_MAX / 2;

}  // namespace

MpiCollectives::MpiCollectives(MPI_Comm comm) : comm_(comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  table_ = nc_collectives{this, rank, size, &MpiCollectives::allreduce_entry};
}

int MpiCollectives::allreduce_entry(void* context, double* data, std::int64_t count) {
  if (count < 0 || (data == nullptr && count > 0)) {
    // Still take part in the round, so the other ranks learn that this
    // all-reduce cannot complete instead of waiting for it.
    static_cast<MpiCollectives*>(context)->exchange_header(false, -1);
    return -1;
  }
  return static_cast<MpiCollectives*>(context)->allreduce({data, std::size_t(count)}) ? 0 : -1;
}

// MAX over {left, -left, count, -count}: someone left, everyone left
// (min left = 1), and min count == max count, in one small all-reduce.
MpiCollectives::Header MpiCollectives::exchange_header(bool left, std::int64_t count) {
  std::int64_t h[4] = {left ? 1 : 0, left ? -1 : 0, count, -count};
  MPI_Allreduce(MPI_IN_PLACE, h, 4, MPI_INT64_T, MPI_MAX, comm_);
  return Header{h[0] == 1, h[1] == -1, h[2] == -h[3] && h[2] >= 0};
}

bool MpiCollectives::allreduce(std::span<double> values) {
  const auto count = std::int64_t(values.size());
  const Header h = exchange_header(false, count);
  if (h.anyone_left || !h.counts_agree) return false;
  for (std::int64_t first = 0; first < count; first += kMaxPiece) {
    const auto piece = int(std::min(kMaxPiece, count - first));
    MPI_Allreduce(MPI_IN_PLACE, values.data() + first, piece, MPI_DOUBLE, MPI_SUM, comm_);
  }
  return true;
}

void MpiCollectives::leave() {
  while (!exchange_header(true, 0).everyone_left) {
  }
}

}  // namespace normcheck::mpi
