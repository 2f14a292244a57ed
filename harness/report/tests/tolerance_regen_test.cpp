#include <catch2/catch.hpp>

#include "normcheck/report/tolerance_regen.hpp"
#include "sample_results.hpp"

using Catch::Matchers::Contains;
using namespace normcheck::report;
using normcheck::compare::Tolerances;

TEST_CASE("round_up_2_digits rounds up to two significant digits") {
  CHECK(round_up_2_digits(3.27) == 3.3);
  CHECK(round_up_2_digits(1234.0) == 1300.0);
  CHECK(round_up_2_digits(0.0101) == 0.011);
  CHECK(round_up_2_digits(5.0) >= 5.0);
  CHECK(round_up_2_digits(5.0) <= 5.1);
}

TEST_CASE("regeneration raises exceeded limits, and only those") {
  Results r =
      testing::sample_results();  // a dx at 3.5 (fail), a y at 0.25 (pass), a known y at inf
  const Regenerated g = regenerate_tolerances(r, Tolerances::builtin(), 1.5);
  REQUIRE(g.raised.size() == 1);
  CHECK_THAT(g.raised[0], Contains("a layer_norm dx f32: max_bound_ratio 1 -> 5.3"));
  CHECK(g.tolerances.limit("a", "layer_norm", "dx", "f32").max_bound_ratio == 5.3);
  CHECK(g.tolerances.limit("a", "layer_norm", "y", "f32").max_bound_ratio ==
        1.0);  // 0.25 fits: untouched
  // The non-finite error cannot become a limit: listed, not loosened.
  REQUIRE(g.skipped.size() == 1);
  CHECK_THAT(g.skipped[0], Contains("b ln:f32"));
  CHECK(g.tolerances.limits.back().note.find("observed bound ratio 3.5") != std::string::npos);
}

TEST_CASE("regeneration never lowers a limit and leaves known failures alone") {
  Results r = testing::sample_results();
  const Tolerances base = Tolerances::parse(R"(schema_version = 1
[[limit]]
backend = "a"
check = "dx"
max_bound_ratio = 10.0
[[expected_fail]]
backend = "b"
case = "*"
reason = "known"
)",
                                            "base.toml");
  const Regenerated g = regenerate_tolerances(r, base, 1.5);
  CHECK(g.raised.empty());
  CHECK(g.skipped.empty());
  CHECK(g.tolerances.limit("a", "layer_norm", "dx", "f32").max_bound_ratio == 10.0);
  CHECK(g.tolerances.to_toml("x") == base.to_toml("x"));
}

TEST_CASE("regeneration never writes a limit the file would not load with") {
  Results r = testing::sample_results();
  for (auto& rec : r.records)
    if (rec.bound_ratio == 3.5) rec.bound_ratio = 2e6;  // the dx fail, far beyond any limit
  const Regenerated g = regenerate_tolerances(r, Tolerances::builtin(), 1.5);
  CHECK(g.raised.empty());
  REQUIRE(g.skipped.size() == 2);
  CHECK_THAT(g.skipped[1], Contains("a layer_norm dx f32: observed bound ratio 2e+06") &&
                               Contains("no limit above 1e+06"));
  // What was written loads again (before: a limit of 3e6 that the reader rejects).
  CHECK_NOTHROW(Tolerances::parse(g.tolerances.to_toml("x"), "regen.toml"));
}
