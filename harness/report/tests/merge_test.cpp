#include <catch2/catch.hpp>

#include "normcheck/report/merge.hpp"
#include "sample_results.hpp"

using namespace normcheck::report;

TEST_CASE("merging two shards keeps every record and spans both runs") {
  Results a = testing::sample_results(), b = testing::sample_results();
  b.records.resize(2);
  for (auto& r : b.records) r.case_id = "bn:f32:f32:2x3:eps=1e-5:dist=normal";
  b.run.started = "2023-12-31T23:00:00Z";
  b.run.finished = "2024-01-02T00:00:00Z";
  b.run.incomplete = true;
  b.run.incomplete_reason = "interrupted";
  b.backends.push_back({"c", "3", ""});
  const Merged m = merge_results({a, b}, {"a.json", "b.json"});
  CHECK(m.results.records.size() == a.records.size() + 2);
  CHECK(m.duplicates.empty());
  CHECK(m.results.run.started == "2023-12-31T23:00:00Z");
  CHECK(m.results.run.finished == "2024-01-02T00:00:00Z");
  CHECK(m.results.run.incomplete);
  CHECK(m.results.run.incomplete_reason == "b.json: interrupted");
  CHECK(m.results.run.cases_planned == 4);
  CHECK(m.results.backends.size() == 3);
}

TEST_CASE("a record present in two inputs is reported and the later one kept") {
  Results a = testing::sample_results(), b = testing::sample_results();
  b.records.resize(1);
  b.records[0].bound_ratio = 0.5;
  const Merged m = merge_results({a, b}, {"a.json", "b.json"});
  CHECK(m.results.records.size() == a.records.size());
  REQUIRE(m.duplicates.size() == 1);
  CHECK(m.results.records[0].bound_ratio == 0.5);
}
