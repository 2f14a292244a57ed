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

TEST_CASE("hostile results files end in one InputError, never a crash") {
  using normcheck::model::InputError;
  // 100 000 levels of nesting: a stack overflow (segfault) in compare/merge before.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK_THROWS_WITH(results_from_json(deep, "deep.json"),
                    Contains("deep.json") && Contains("nested more than 64 deep"));
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += "{\"a\":";
    return s + "1" + std::string(100000, '}');
  }();
  CHECK_THROWS_AS(results_from_json(objects, "deep.json"), InputError);
  // Brackets inside strings are text, not nesting.
  std::string text = results_to_json(testing::sample_results());
  std::string quoted = text;
  quoted.replace(quoted.find("\"hostname\": \"") + 13, 0, std::string(100, '['));
  CHECK(results_from_json(quoted, "q.json").run.hostname.starts_with("[[[["));
  // A number that overflows a double: json::out_of_range, "internal error", exit 3 before.
  std::string overflow = text;
  const auto at = overflow.find("\"timeout_seconds\": ") + 19;
  overflow.replace(at, overflow.find(',', at) - at, "1e999");
  CHECK_THROWS_WITH(results_from_json(overflow, "big.json"),
                    Contains("big.json") && Contains("not a JSON file"));
  std::string too_big = text;
  const auto jobs = too_big.find("\"jobs\": ") + 8;
  too_big.replace(jobs, too_big.find(',', jobs) - jobs, "18446744073709551615");
  CHECK_THROWS_WITH(results_from_json(too_big, "x.json"), Contains("'jobs' is out of range"));
}

TEST_CASE("a message that is not UTF-8 is written, its bad bytes replaced") {
  // Found by the fixture mutant sweep: a damaged fixture's attribute bytes,
  // quoted in its `damaged` record, made results.json fail to write (exit
  // 3, every result lost). A plugin's message can hold any bytes too.
  auto results = testing::sample_results();
  results.records[0].message = "descriptor 'ln:f3\xe1\x63:4x8' \xff";
  std::string text;
  REQUIRE_NOTHROW(text = results_to_json(results));
  const auto back = results_from_json(text, "x.json");
  CHECK(back.records[0].message == "descriptor 'ln:f3\xef\xbf\xbd" "c:4x8' \xef\xbf\xbd");
}
