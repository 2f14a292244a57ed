// Closed-form checks of the naive backend and a demonstration of where its
// textbook formulas break.
#include <catch2/catch.hpp>

#include <cmath>

#include "normcheck/naive/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::testing;

TEST_CASE("naive layer norm of [1, 2, 3, 4] in closed form", "[naive]") {
  // mean 2.5, biased variance 1.25; eps = 0 so y = (x - 2.5) / sqrt(1.25).
  // Tolerance 4 ulp of f64: a handful of roundings.
  auto p = make_problem(NC_OP_LAYER_NORM, {1, 4});
  p.eps = 0.0;
  p.flags = 0;
  Inputs in;
  in.x = HostTensor(DType::f64, {1, 4}, {1, 2, 3, 4});
  auto r = run_forward(naive::backend_table(), p, in);
  REQUIRE(r.status == NC_OK);
  const double s = std::sqrt(1.25);
  const auto y = r.y.values();
  const std::vector<double> expected{-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s};
  for (int i = 0; i < 4; ++i) CHECK(y[i] == Approx(expected[i]).epsilon(4e-16));
  CHECK(r.saved_mean.at(0) == 2.5);
  CHECK(r.saved_rstd.at(0) == Approx(1 / s).epsilon(4e-16));
}

TEST_CASE("naive f32 loses every digit on large-offset inputs (by design)", "[naive]") {
  // Rows of mean 1e4 and spread 1: E[x^2] ~ 1e8 carries an f32 rounding
  // error of ~1e8 * 2^-24 ~ 6, larger than the variance (~1/3) itself, so
  // the single-pass variance is garbage and y errs by O(1). This is the
  // failure the harness must flag; the test fails if naive ever becomes
  // accidentally robust (error below 0.1 relative to max(1, |y|)).
  auto p = make_problem(NC_OP_LAYER_NORM, {16, 256}, DType::f32);
  const auto in = random_inputs(p, 3, 1e4, 1.0);
  auto wide_p = p;
  set_dtypes(wide_p, DType::f64, DType::f64, DType::f64);
  Inputs wide_in;
  wide_in.x = HostTensor(DType::f64, in.x.shape, in.x.values());
  wide_in.gamma = HostTensor(DType::f64, in.gamma.shape, in.gamma.values());
  wide_in.beta = HostTensor(DType::f64, in.beta.shape, in.beta.values());
  const auto narrow = run_forward(naive::backend_table(), p, in);
  const auto wide = run_forward(naive::backend_table(), wide_p, wide_in);
  REQUIRE(narrow.status == NC_OK);
  REQUIRE(wide.status == NC_OK);
  CHECK(max_relative_error(narrow.y.values(), wide.y.values()) > 0.1);
}

TEST_CASE("naive eval batch norm backward: dx = dy * gamma * rstd, finite where x is not",
          "[naive]") {
  // In eval mode the statistics are constants, so dx does not depend on x:
  // a NaN or inf in x must not reach dx (it did, through 0 * x-hat). The
  // expected value is one product of doubles: tolerance 4 ulp of f64.
  auto p = make_problem(NC_OP_BATCH_NORM, {2, 3, 2, 2});
  p.mode = NC_MODE_EVAL;
  auto in = random_inputs(p, 11);
  in.x.set(0, std::nan(""));
  in.x.set(5, INFINITY);
  in.x.set(13, -INFINITY);
  auto fwd = run_forward(naive::backend_table(), p, in);
  REQUIRE(fwd.status == NC_OK);
  const auto bwd = run_backward(naive::backend_table(), p, in, fwd);
  REQUIRE(bwd.status == NC_OK);
  const auto dx = bwd.dx.values(), dy = in.dy.values(), gamma = in.gamma.values(),
             var = in.running_var.values();
  for (std::int64_t i = 0; i < 24; ++i) {
    const std::size_t c = std::size_t((i / 4) % 3);
    const double expected = dy[std::size_t(i)] * gamma[c] / std::sqrt(var[c] + p.eps);
    INFO("element " << i);
    REQUIRE(std::isfinite(dx[std::size_t(i)]));
    CHECK(dx[std::size_t(i)] == Approx(expected).epsilon(4e-16));
  }
}
