#include <catch2/catch.hpp>
#include <cmath>

#include "normcheck/model/problem.hpp"
#include "normcheck/report/results_json.hpp"
#include "sample_results.hpp"

using Catch::Matchers::Contains;
using namespace normcheck::report;

TEST_CASE("results.json round-trips every field, including non-finite numbers") {
  const Results r = testing::sample_results();
  const std::string text = results_to_json(r);
  CHECK_THAT(text, Contains("\"schema_version\": 1"));
  CHECK_THAT(text, Contains("\"bound_ratio\": \"inf\""));
  CHECK_THAT(text, Contains("\"bound_ratio\": null"));
  const Results back = results_from_json(text, "r.json");
  REQUIRE(back.records.size() == r.records.size());
  CHECK(results_to_json(back) == text);
  CHECK(std::isinf(back.records[2].bound_ratio));
  CHECK(std::isnan(back.records[3].bound_ratio));
  REQUIRE(back.records[1].worst);
  CHECK(back.records[1].worst->index == std::vector<std::int64_t>{1, 7});
  CHECK(back.records[1].worst->kappa == 1e4);
  CHECK_FALSE(back.records[2].gating);
  CHECK(back.backends[1].version == "2.0");
}

TEST_CASE("results files of another schema or shape are rejected with the file named") {
  using normcheck::model::InputError;
  CHECK_THROWS_WITH(results_from_json(R"({"schema_version": 2, "run": {}})", "old.json"),
                    Contains("old.json") && Contains("schema_version 2"));
  CHECK_THROWS_WITH(results_from_json("{\"records\": []}", "x.json"),
                    Contains("no schema_version"));
  CHECK_THROWS_WITH(results_from_json("not json", "x.json"), Contains("not a JSON file"));
  std::string text = results_to_json(testing::sample_results());
  text.replace(text.find("\"pass\""), 6, "\"great\"");
  CHECK_THROWS_WITH(results_from_json(text, "x.json"), Contains("unknown status 'great'"));
  CHECK_THROWS_AS(read_results("/nonexistent/results.json"), InputError);
}

TEST_CASE("a JSON number out of range is bad input naming the file, not an internal error") {
  // Found by harness/fuzz/results_json_fuzz: nlohmann's out_of_range
  // escaped as a json::exception (exit 3, "internal error").
  using normcheck::model::InputError;
  std::string text = results_to_json(testing::sample_results());
  const std::string key = "\"timeout_seconds\": ";
  const auto value = text.find(key) + key.size();
  text.replace(value, text.find(',', value) - value, "2.8e405");  // beyond double
  CHECK_THROWS_AS(results_from_json(text, "big.json"), InputError);
  CHECK_THROWS_WITH(results_from_json(text, "big.json"), Contains("big.json"));
}
