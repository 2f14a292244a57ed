// Closed forms worked by hand. x = [1, 2, 3, 4]: mean 2.5, biased variance
// (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25, unbiased 5/3.
// Tolerance: none. Each expected value is the exact result, written as a
// decimal literal with 35+ digits (or an exact fraction) that the compiler
// rounds correctly to the same double the reference must return; none of
// these exact values is anywhere near a rounding midpoint.

#include <catch2/catch.hpp>

#include "normcheck/reference/running_stats.hpp"
#include "support.hpp"

using namespace nc_test;

namespace {
const std::vector<double> kX{1, 2, 3, 4};
}

TEST_CASE("layer_norm of [1,2,3,4] with var + eps a perfect square", "[closed-form]") {
  // eps = 0.3125: var + eps = 1.5625 = 1.25^2, rstd = 0.8,
  // xhat = (-1.2, -0.4, 0.4, 1.2).
  const auto g = geometry(NormOp::layer_norm, {1, 4});
  const std::vector<double> gamma{1, 2, -1, 0.5}, beta{0, 1, 0.5, -2};
  ForwardInputs in;
  in.x = kX;
  in.gamma = gamma;
  in.beta = beta;
  in.eps = 0.3125;
  const ForwardResult f = forward(g, in);
  CHECK(f.mean.values == std::vector<double>{2.5});
  CHECK(f.rstd.values == std::vector<double>{0.8});
  // y = xhat * gamma + beta = (-1.2, -0.8 + 1, -0.4 + 0.5, 0.6 - 2)
  CHECK(f.y.values == std::vector<double>{-1.2, 0.2, 0.1, -1.4});
  CHECK(f.y.cert.all_certified);

  // Backward, gamma = 1, dy = e_0: mean(dy) = 0.25, mean(dy*xhat) = -0.3,
  // dx = 0.8 * (dy - 0.25 - xhat * (-0.3))
  //    = 0.8 * (0.39, -0.37, -0.13, 0.11) = (0.312, -0.296, -0.104, 0.088).
  const std::vector<double> ones{1, 1, 1, 1}, zeros{0, 0, 0, 0}, dy{1, 0, 0, 0};
  in.gamma = ones;
  in.beta = zeros;
  const BackwardResult b = backward(g, in, dy);
  CHECK(b.dx.values == std::vector<double>{0.312, -0.296, -0.104, 0.088});
  CHECK(b.dgamma.values == std::vector<double>{-1.2, 0, 0, 0});  // dy * xhat
  CHECK(b.dbeta.values == std::vector<double>{1, 0, 0, 0});
}

TEST_CASE("layer_norm of [1,2,3,4] with irrational rstd", "[closed-form]") {
  const auto g = geometry(NormOp::layer_norm, {1, 4});
  ForwardInputs in;
  in.x = kX;
  SECTION("eps = 0: rstd = 2/sqrt(5)") {
    in.eps = 0;
    const ForwardResult f = forward(g, in);
    CHECK(f.rstd.values[0] == 0.8944271909999158785636694674925104941);
    CHECK(f.y.values == std::vector<double>{-1.341640786499873817845504201238765741,
                                            -0.4472135954999579392818347337462552470,
                                            0.4472135954999579392818347337462552470,
                                            1.341640786499873817845504201238765741});
  }
  SECTION("eps = 2^-16 with gamma and beta") {
    in.eps = 0x1p-16;
    const std::vector<double> gamma{1, 1, 2, 0.5}, beta{0, 0, 1, -2};
    in.gamma = gamma;
    in.beta = beta;
    const ForwardResult f = forward(g, in);
    // r = 1/sqrt(1.25 + 2^-16); y = (-1.5 r, -0.5 r, r + 1, 0.75 r - 2)
    CHECK(f.rstd.values[0] == 0.8944217318995596913598547878705314486);
    CHECK(f.y.values == std::vector<double>{-1.341632597849339537039782181805797173,
                                            -0.4472108659497798456799273939352657243,
                                            1.894421731899559691359854787870531448,
                                            -1.329183701075330231480108909097101413});
  }
}

TEST_CASE("rms_norm of [1,2,3,4]", "[closed-form]") {
  // mean(h^2) = 30/4 = 7.5; eps = 0.0625 makes mean(h^2) + eps = 7.5625 =
  // 2.75^2, so rstd = 4/11 and y = x * 4/11.
  const auto g = geometry(NormOp::rms_norm, {1, 4});
  ForwardInputs in;
  in.x = kX;
  in.eps = 0.0625;
  const ForwardResult f = forward(g, in);
  CHECK(f.mean.values.empty());
  CHECK(f.rstd.values[0] == 4.0 / 11.0);  // correctly rounded division
  CHECK(f.y.values == std::vector<double>{4.0 / 11.0, 8.0 / 11.0, 12.0 / 11.0, 16.0 / 11.0});
}

TEST_CASE("batch_norm running stats, both conventions and estimators", "[closed-form]") {
  // Shape (N=2, C=1, S=2): the channel holds [1,2,3,4]; n = 4, mean 2.5,
  // biased var 1.25, unbiased 5/3. Old mean 0, old var 1, momentum 0.25.
  const auto g = geometry(NormOp::batch_norm, {2, 1, 2});
  const std::vector<double> m0{0}, v0{1};
  RunningStatsUpdate u;
  u.momentum = 0.25;
  auto run = [&](MomentumConvention c, VarianceEstimator e) {
    u.convention = c;
    u.estimator = e;
    return update_running_stats(g, kX, m0, v0, u);
  };
  // torch: new = 0.75 old + 0.25 batch
  auto r = run(MomentumConvention::torch, VarianceEstimator::unbiased);
  CHECK(r.mean.values[0] == 0.625);
  CHECK(r.var.values[0] == 7.0 / 6.0);  // 0.75 + 0.25 * 5/3 = 7/6
  r = run(MomentumConvention::torch, VarianceEstimator::biased);
  CHECK(r.var.values[0] == 1.0625);  // 0.75 + 0.25 * 1.25
  // paddle: new = 0.25 old + 0.75 batch
  r = run(MomentumConvention::paddle, VarianceEstimator::unbiased);
  CHECK(r.mean.values[0] == 1.875);
  CHECK(r.var.values[0] == 1.5);  // 0.25 + 0.75 * 5/3
  r = run(MomentumConvention::paddle, VarianceEstimator::biased);
  CHECK(r.var.values[0] == 1.1875);  // 0.25 + 0.75 * 1.25
  CHECK(r.var.cert.all_certified);
}

TEST_CASE("instance_norm running stats average per-instance statistics", "[closed-form]") {
  // Instances [1,2] and [3,4]: means 1.5 and 3.5 (average 2.5), biased
  // variances 0.25 (unbiased 0.5) each.
  const auto g = geometry(NormOp::instance_norm, {2, 1, 2});
  const std::vector<double> m0{0}, v0{1};
  RunningStatsUpdate u;
  u.momentum = 0.25;
  auto r = update_running_stats(g, kX, m0, v0, u);
  CHECK(r.mean.values[0] == 0.625);
  CHECK(r.var.values[0] == 0.875);  // 0.75 + 0.25 * 0.5
  u.estimator = VarianceEstimator::biased;
  r = update_running_stats(g, kX, m0, v0, u);
  CHECK(r.var.values[0] == 0.8125);  // 0.75 + 0.25 * 0.25
}

TEST_CASE("unbiased variance of one element is rejected", "[closed-form]") {
  const auto g = geometry(NormOp::batch_norm, {1, 2});  // N * spatial = 1
  const std::vector<double> x{1, 2}, m{0, 0}, v{1, 1};
  RunningStatsUpdate u;
  CHECK_THROWS_WITH(update_running_stats(g, x, m, v, u), Catch::Contains("estimator"));
  u.estimator = VarianceEstimator::biased;
  CHECK(update_running_stats(g, x, m, v, u).var.values == std::vector<double>{0.9, 0.9});
  u.momentum = 1.5;
  CHECK_THROWS_WITH(update_running_stats(g, x, m, v, u), Catch::Contains("momentum"));
}
