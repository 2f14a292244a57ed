// The pass path and the properties, on test backends that compute layer and
// RMS norm exactly (harness/tests/backends/exact_ln_backend.cpp) and on
// variants of it that each break one thing.
#include <catch2/catch.hpp>
#include <cmath>

#include "normcheck/compare/tolerances.hpp"
#include "run_support.hpp"

using Catch::Matchers::Contains;
using normcheck::compare::Status;
using normcheck::compare::Tolerances;
using namespace normcheck::testing;

TEST_CASE("a correct kernel passes every check and property") {
  const auto descriptor = GENERATE(as<std::string>{}, "ln:f32:4x64", "ln:bf16:f32:4x64:res=1",
                                   "rms:f16:3x33", "ln:f32:2x3x8:axis=1:affine=s",
                                   "ln:f32:4x256:dist=offset", "ln:f64:4x64:dist=nonfinite");
  const auto records = run_on("exact_ln_exact", {generated(descriptor)});
  INFO(descriptor);
  for (const auto& r : records) {
    INFO(r.check << ": " << r.message);
    CHECK(r.status == Status::pass);
    // Rounded once from long double: within the bound. The rounding to a
    // 16-bit output alone may use all of its u * |y| term (an element just
    // above a power of two), so the ratio can come close to 1, not above.
    if (r.measured()) CHECK(r.bound_ratio <= 1.0);
  }
  for (const char* check : {"y", "saved_rstd", "dx", "nan_placement", "determinism",
                            "batch_invariance", "train_eval_identity"})
    CHECK(record(records, check).status == Status::pass);
}

TEST_CASE(
    "the model tells the textbook variance from a robust one: f32 layer norm with a large offset") {
  const auto records = run_on("exact_ln_fragile", {generated("ln:f32:4x512:dist=offset")});
  const auto y = record(records, "y");
  CHECK(y.status == Status::fail);
  // E[h^2] - E[h]^2 in f32 errs by ~u * kappa^2 against a bound of ~u * kappa
  // with kappa ~ 1e4: far out, not marginally.
  CHECK(y.bound_ratio > 100.0);
  REQUIRE(y.worst);
  CHECK(*y.worst->kappa > 1000.0);
  SECTION("while on well-conditioned data it is as good as any") {
    CHECK(record(run_on("exact_ln_fragile", {generated("ln:f32:4x512")}), "y").status ==
          Status::pass);
  }
}

TEST_CASE("a known failure listed in the tolerance file is reported but does not fail the run") {
  const auto t = Tolerances::parse(R"(schema_version = 1
[[expected_fail]]
backend = "exact_ln_fragile"
case = "*dist=offset*"
reason = "textbook variance"
)",
                                   "t.toml");
  const auto y =
      record(run_on("exact_ln_fragile", {generated("ln:f32:4x512:dist=offset")}, t), "y");
  CHECK(y.status == Status::fail);
  CHECK_FALSE(y.gating);
  CHECK_FALSE(y.fails_run());
  CHECK(y.note == "expected_fail: textbook variance");
}

TEST_CASE("run-to-run nondeterminism: advisory unless required") {
  const auto c = generated("ln:f32:4x64");
  SECTION("advisory") {
    const auto d = record(run_on("exact_ln_nondeterministic", {c}), "determinism");
    CHECK(d.status == Status::fail);
    CHECK_FALSE(d.gating);
    CHECK_THAT(d.message, Contains("rerun/y:"));
    CHECK_THAT(d.note, Contains("require_determinism"));
  }
  SECTION("required") {
    const auto t =
        Tolerances::parse("schema_version = 1\n[default]\nrequire_determinism = true\n", "t.toml");
    CHECK(record(run_on("exact_ln_nondeterministic", {c}, t), "determinism").fails_run());
  }
}

TEST_CASE("batch variance: a row's bits change with the batch size") {
  const auto records = run_on("exact_ln_batch_variant", {generated("ln:f32:4x64")});
  const auto b = record(records, "batch_invariance");
  CHECK(b.status == Status::fail);
  CHECK_THAT(b.message, Contains("sub/y:"));
  CHECK(record(records, "y").status == Status::pass);  // still accurate
}

TEST_CASE("layer norm in eval mode must give the training-mode bits") {
  const auto r =
      record(run_on("exact_ln_eval_differs", {generated("ln:f32:4x64")}), "train_eval_identity");
  CHECK(r.status == Status::fail);
  CHECK(r.gating);
}

TEST_CASE("the worst element comes with its index, values and group statistics") {
  const auto y = record(run_on("exact_ln_fragile", {generated("ln:f32:4x512:dist=offset")}), "y");
  REQUIRE(y.worst);
  CHECK(y.worst->tensor == "y");
  REQUIRE(y.worst->index.size() == 2);
  CHECK(y.worst->index[0] < 4);
  CHECK(y.worst->index[1] < 512);
  REQUIRE(y.worst->group);
  CHECK(*y.worst->group == y.worst->index[0]);     // one group per row
  CHECK(std::abs(*y.worst->group_mean) > 1000.0);  // the offset
  CHECK(*y.worst->group_rstd > 0.1);
  CHECK(std::abs(y.worst->actual - y.worst->golden) > y.worst->bound);
}

// Issue 13, point 7: a kernel whose statistics skip NaN/inf writes finite
// values where the golden is NaN. nan_placement is advisory by default (this
// test backend has no requirements), so the value checks themselves must
// fail: with an infinite bound ratio, not a marginal one.
TEST_CASE("finite outputs where the golden is NaN fail the value checks") {
  const auto records = run_on("exact_ln_nan_skipping", {generated("ln:f64:4x64:dist=nonfinite")});
  for (const char* check : {"y", "saved_mean", "saved_rstd"}) {
    const auto r = record(records, check);
    INFO(check << ": " << r.message);
    CHECK(r.status == Status::fail);
    CHECK(std::isinf(r.bound_ratio));
    REQUIRE(r.worst);
    CHECK(std::isnan(r.worst->golden));
    CHECK(std::isfinite(r.worst->actual));
  }
  SECTION("while on finite data it is the exact kernel") {
    for (const auto& r : run_on("exact_ln_nan_skipping", {generated("ln:f64:4x64")}))
      CHECK(r.status == Status::pass);
  }
}
