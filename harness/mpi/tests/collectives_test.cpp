// MpiCollectives under mpirun (any number of ranks; CTest uses 3): sums
// over all ranks, and the failure semantics that keep a broken rank from
// hanging the others. Every rank runs the same tests in the same order;
// collectives need all ranks, so no assertion here may end a test early
// (CHECK, never REQUIRE), and the exit code is the worst over the ranks.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <vector>

#include "normcheck/mpi/collectives.hpp"
#include "normcheck/mpi/session.hpp"

using normcheck::mpi::MpiCollectives;

TEST_CASE("collectives: every rank gets the sum over all ranks", "[mpi][collectives]") {
  MpiCollectives c(MPI_COMM_WORLD);
  const int r = c.rank(), n = c.size();
  CHECK(c.table()->rank == r);
  CHECK(c.table()->size == n);
  // Small integers and halves: the sums are exact in any order.
  std::vector<double> v{double(r + 1), 0.5 * r, r == 0 ? 1e16 : 0.0};
  CHECK(c.table()->allreduce_sum_f64(c.table()->context, v.data(), std::int64_t(v.size())) == 0);
  CHECK(v == std::vector<double>{n * (n + 1) / 2.0, 0.25 * n * (n - 1), 1e16});
  std::vector<double> none;
  CHECK(c.allreduce(none));
  std::vector<double> large(std::size_t(1) << 20, 1.0);
  CHECK(c.allreduce(large));
  CHECK(large.front() == n);
  CHECK(large.back() == n);
  c.leave();
}

TEST_CASE("collectives: a rank that has left fails the others' all-reduces instead of hanging",
          "[mpi][collectives]") {
  MpiCollectives c(MPI_COMM_WORLD);
  if (c.size() > 1 && c.rank() == c.size() - 1) {
    c.leave();
    return;
  }
  std::vector<double> v{1.0, 2.0};
  const bool lone = c.size() == 1;
  CHECK(c.allreduce(v) == lone);
  CHECK(v == std::vector<double>{1.0, 2.0});  // unchanged on failure (size 1: the sum is itself)
  CHECK(c.allreduce(v) == lone);              // and every later one
  c.leave();
}

TEST_CASE("collectives: counts that differ fail on every rank, and the group stays usable",
          "[mpi][collectives]") {
  MpiCollectives c(MPI_COMM_WORLD);
  std::vector<double> v(std::size_t(c.rank() + 1), 1.0);
  CHECK(c.allreduce(v) == (c.size() == 1));
  std::vector<double> w{1.0};
  CHECK(c.allreduce(w));
  CHECK(w.front() == c.size());
  c.leave();
}

TEST_CASE("collectives: a malformed call through the table fails without stranding the others",
          "[mpi][collectives]") {
  MpiCollectives c(MPI_COMM_WORLD);
  double v = 1.0;
  const auto* t = c.table();
  if (c.rank() == 0)
    CHECK(t->allreduce_sum_f64(t->context, &v, -1) != 0);
  else
    CHECK(t->allreduce_sum_f64(t->context, &v, 1) != 0);
  c.leave();
}

int main(int argc, char** argv) {
  const normcheck::mpi::MpiSession session;
  const int failed = Catch::Session().run(argc, argv);
  return normcheck::mpi::max_over_ranks(session.comm(), failed) == 0 ? 0 : 1;
}
