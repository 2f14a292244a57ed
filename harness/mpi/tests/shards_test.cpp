// Which samples each rank holds, and which cases a run with R ranks takes.
#include <catch2/catch.hpp>

#include "normcheck/mpi/shards.hpp"

using namespace normcheck;
using mpi::select_sync_cases;

namespace {

runner::MemoryCases cases_of(const std::vector<std::string>& descriptors) {
  std::vector<fixture::Case> cases;
  for (const auto& d : descriptors)
    cases.push_back(fixture::Case{model::parse_descriptor(d), {}, {}, {}});
  return runner::MemoryCases(std::move(cases));
}

}  // namespace

TEST_CASE("shards: rank r holds the samples after those of ranks 0..r-1", "[mpi][shards]") {
  const auto p = model::parse_descriptor("bn:f32:6x4x3x3:shards=1+2+3");
  CHECK(mpi::shard_first_sample(p, 0) == 0);
  CHECK(mpi::shard_first_sample(p, 1) == 1);
  CHECK(mpi::shard_first_sample(p, 2) == 3);
  const auto shard = mpi::shard_problem(p, 2);
  CHECK(shard.shape == std::vector<std::int64_t>{3, 4, 3, 3});
  CHECK(shard.shards.empty());
  CHECK(shard.eps == p.eps);
  CHECK(shard.track_running_stats);
  // Channels last: N is still the first dim in memory order.
  const auto nhwc =
      mpi::shard_problem(model::parse_descriptor("bn:f64:6x3x3x4:layout=nhwc:shards=1+2+3"), 1);
  CHECK(nhwc.shape == std::vector<std::int64_t>{2, 3, 3, 4});
}

TEST_CASE("shards: a run takes the SyncBN cases with as many shards as ranks", "[mpi][shards]") {
  const auto source = cases_of({"bn:f32:6x4x3x3:shards=3+3", "bn:f32:6x4x3x3:shards=1+2+3",
                                "ln:f32:4x8", "bn:f32:6x4x3x3:shards=1+5", "bn:f32:4x4x3x3"});
  const std::vector<std::size_t> all{0, 1, 2, 3, 4};
  const auto two = select_sync_cases(source, all, 2);
  CHECK(two.cases == std::vector<std::size_t>{0, 3});
  CHECK(two.other_rank_counts == 1);
  CHECK(two.not_sync == 2);
  CHECK(two.rank_counts == std::set<std::size_t>{2, 3});
  const std::string skipped = mpi::describe_skipped(two, 2);
  CHECK_THAT(skipped, Catch::Contains("skipped 1 SyncBN case for 3 ranks"));
  CHECK_THAT(skipped, Catch::Contains("skipped 2 cases without shards="));

  CHECK(select_sync_cases(source, all, 4).cases.empty());
  CHECK(select_sync_cases(source, {1}, 3).cases == std::vector<std::size_t>{1});
  CHECK(mpi::describe_skipped(select_sync_cases(source, {1}, 3), 3).empty());
}
