#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "normcheck/runner/in_process_group.hpp"

using normcheck::runner::InProcessGroup;

TEST_CASE("allreduce sums over ranks, the same bits on every rank, repeatedly") {
  const int ranks = GENERATE(1, 2, 3, 5);
  InProcessGroup group(ranks);
  std::vector<std::vector<double>> data(static_cast<std::size_t>(ranks));
  std::vector<int> status(static_cast<std::size_t>(ranks), -7);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      const nc_collectives* c = group.collectives(r);
      auto& d = data[std::size_t(r)];
      int s = 0;
      for (int round = 0; round < 3 && s == 0; ++round) {
        // Values whose sum depends on the order: 1e16 + 1 - 1e16.
        d = {r == 0 ? 1e16 : 1.0, double(r), -1e16 * (r == ranks - 1 && ranks > 1 ? 1 : 0)};
        s = c->allreduce_sum_f64(c->context, d.data(), 3);
      }
      status[std::size_t(r)] = s;
      group.leave(r);
    });
  for (auto& t : threads) t.join();
  // Rank order: ((1e16 + 1) + 1 ...) - 1e16, computed the same on every rank.
  for (int r = 0; r < ranks; ++r) {
    CHECK(status[std::size_t(r)] == 0);
    CHECK(data[std::size_t(r)] == data[0]);
    CHECK(data[std::size_t(r)][1] == double(ranks * (ranks - 1) / 2));
  }
  CHECK(group.collectives(0)->size == ranks);
}

TEST_CASE("a rank that leaves makes the others' all-reduce fail instead of hang") {
  InProcessGroup group(2);
  int status = 0;
  std::thread waiting([&] {
    double v = 1.0;
    const nc_collectives* c = group.collectives(1);
    status = c->allreduce_sum_f64(c->context, &v, 1);
  });
  group.leave(0);  // rank 0's kernel returned without calling
  waiting.join();
  CHECK(status != 0);
}

TEST_CASE("ranks that disagree on the count fail") {
  InProcessGroup group(2);
  int s0 = 0, s1 = 0;
  std::thread a([&] {
    double v[2] = {1, 2};
    s0 = group.allreduce(0, v, 2);
    group.leave(0);
  });
  std::thread b([&] {
    double v[3] = {1, 2, 3};
    s1 = group.allreduce(1, v, 3);
    group.leave(1);
  });
  a.join();
  b.join();
  CHECK((s0 != 0 || s1 != 0));
}
