#include <catch2/catch.hpp>

#include "normcheck/report/regression.hpp"
#include "sample_results.hpp"

using namespace normcheck::report;
using Kind = Change::Kind;

TEST_CASE("identical runs have no changes") {
  const Results r = testing::sample_results();
  CHECK(compare_runs(r, r, {}).empty());
}

TEST_CASE("status changes, error growth, appeared and disappeared records") {
  const Results base = testing::sample_results();
  Results now = base;
  now.records[0].status = Status::fail;        // y: pass -> fail: regression
  now.records[1].status = Status::pass;        // dx: fail -> pass: improvement
  now.records.erase(now.records.begin() + 4);  // timeout record disappears
  Record extra = base.records[0];
  extra.case_id = "rms:f32:f32:4x8:eps=1e-5:dist=normal";
  now.records.push_back(extra);  // appears, passing
  const auto changes = compare_runs(base, now, {});
  REQUIRE(changes.size() == 4);
  CHECK(changes[0].kind == Kind::status_changed);
  CHECK(changes[0].regression);
  CHECK(changes[1].kind == Kind::status_changed);
  CHECK_FALSE(changes[1].regression);
  CHECK(changes[2].kind == Kind::appeared);
  CHECK_FALSE(changes[2].regression);
  CHECK(changes[3].kind == Kind::disappeared);
  CHECK_FALSE(changes[3].regression);
}

TEST_CASE("error growth within tolerance is a regression above the growth factor") {
  const Results base = testing::sample_results();  // record 0: pass at 0.25
  Results now = base;
  SECTION("0.25 -> 0.6 is 2.4x") {
    now.records[0].bound_ratio = 0.6;
    const auto changes = compare_runs(base, now, {2.0, 1e-3});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].kind == Kind::error_grew);
    CHECK(changes[0].regression);
  }
  SECTION("0.25 -> 0.45 is under 2x") {
    now.records[0].bound_ratio = 0.45;
    CHECK(compare_runs(base, now, {2.0, 1e-3}).empty());
  }
  SECTION("tiny ratios are noise") {
    Results b2 = base;
    b2.records[0].bound_ratio = 1e-6;
    now.records[0].bound_ratio = 1e-4;
    CHECK(compare_runs(b2, now, {2.0, 1e-3}).empty());
  }
}

TEST_CASE("pass -> unsupported is a regression; a new failing record too") {
  const Results base = testing::sample_results();
  Results now = base;
  now.records[0].status = Status::unsupported;
  Record extra = base.records[1];  // a gating failure
  extra.case_id = "new";
  now.records.push_back(extra);
  const auto changes = compare_runs(base, now, {});
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].regression);
  CHECK(changes[1].kind == Kind::appeared);
  CHECK(changes[1].regression);
}
