// Batch norm through the libtorch plugin's C table on inputs whose results
// have closed forms. x = [1, 2, 3, 4] per channel: mean 2.5, biased
// variance 1.25, unbiased 5/3, and with eps = 0, rstd = 2/sqrt(5).
#include <catch2/catch.hpp>
#include <cmath>

#include "normcheck/testing/linked_plugin.hpp"

using namespace normcheck::testing::linked_plugin;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using normcheck::numeric::DType;
using normcheck::testing::HostTensor;
using normcheck::testing::make_problem;

namespace {

const std::vector<double> x_values{1, 2, 3, 4};
const double rstd = 2.0 / std::sqrt(5.0);
// ATen works in f32 for f32 and bf16 data: exact sums, then a few
// roundings (sqrt, division, affine): ~8 f32 ulps.
constexpr double f32_rel = 1e-6;

double xhat(double x) {
  return (x - 2.5) * rstd;
}

nc_problem closed_form_problem(DType dtype, std::vector<std::int64_t> shape) {
  auto p = make_problem(NC_OP_BATCH_NORM, std::move(shape), dtype);
  p.eps = 0.0;
  p.flags &= ~unsigned(NC_FLAG_TRACK_RUNNING_STATS);
  return p;
}

}  // namespace

TEST_CASE("batch norm training gives y, saved statistics and PyTorch's running update",
          "[torch][bn]") {
  const auto layout = GENERATE(NC_LAYOUT_NCHW, NC_LAYOUT_NHWC);
  // Two channels, the second 10x the first: (N=2, C=2, W=2) or channels last (N=2, W=2, C=2).
  const std::vector<double> nchw{1, 2, 10, 20, 3, 4, 30, 40}, nhwc{1, 10, 2, 20, 3, 30, 4, 40};
  auto p = closed_form_problem(DType::f32, {2, 2, 2});
  p.layout = layout;
  p.flags |= NC_FLAG_TRACK_RUNNING_STATS;
  HostTensor x(DType::f32, {2, 2, 2}, layout == NC_LAYOUT_NCHW ? nchw : nhwc),
      y(DType::f32, {2, 2, 2});
  HostTensor gamma(DType::f32, {2}, {2.0, 2.0}), beta(DType::f32, {2}, {0.5, 0.5});
  HostTensor mean(DType::f32, {2}), saved_rstd(DType::f32, {2});
  HostTensor running_mean(DType::f32, {2}, {0.0, 0.0}), running_var(DType::f32, {2}, {1.0, 1.0});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  a.saved_mean = mean.view();
  a.saved_rstd = saved_rstd.view();
  a.running_mean = running_mean.view();
  a.running_var = running_var.view();
  const auto answer = forward(p, a);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  CHECK(mean.values() == std::vector<double>{2.5, 25.0});
  CHECK_THAT(saved_rstd.at(0), WithinRel(rstd, f32_rel));
  CHECK_THAT(saved_rstd.at(1), WithinRel(rstd / 10, f32_rel));
  for (std::int64_t i = 0; i < 8; ++i) {
    const double v = layout == NC_LAYOUT_NCHW ? nchw[std::size_t(i)] : nhwc[std::size_t(i)];
    CHECK_THAT(y.at(i), WithinRel(2.0 * xhat(v >= 10 ? v / 10 : v) + 0.5, f32_rel));
  }
  // torch momentum 0.1, unbiased variance (n = 4): f32 blend, a few ulps.
  CHECK_THAT(running_mean.at(0), WithinRel(0.25, f32_rel));
  CHECK_THAT(running_mean.at(1), WithinRel(2.5, f32_rel));
  CHECK_THAT(running_var.at(0), WithinRel(0.9 + 0.1 * 5.0 / 3.0, f32_rel));
  CHECK_THAT(running_var.at(1), WithinRel(0.9 + 0.1 * 500.0 / 3.0, f32_rel));
}

TEST_CASE("batch norm eval and global stats normalize with the running statistics", "[torch][bn]") {
  const auto mode = GENERATE(NC_MODE_EVAL, NC_MODE_GLOBAL_STATS);
  auto p = closed_form_problem(DType::f32, {4, 1});
  p.mode = mode;
  p.eps = 1.0;  // running var 3 + eps 1: rstd = 1/2 exactly
  p.flags |= NC_FLAG_TRACK_RUNNING_STATS;
  HostTensor x(DType::f32, {4, 1}, x_values), y(DType::f32, {4, 1});
  HostTensor gamma(DType::f32, {1}, {2.0}), beta(DType::f32, {1}, {0.5});
  HostTensor running_mean(DType::f32, {1}, {1.0}), running_var(DType::f32, {1}, {3.0});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  a.running_mean = running_mean.view();
  a.running_var = running_var.view();
  REQUIRE(forward(p, a).status == NC_OK);
  // y = 2 (x - 1) / 2 + 0.5 = x - 0.5; ATen folds gamma * rstd first, all
  // exact here, so only f32 rounding of exact values: none.
  for (std::int64_t i = 0; i < 4; ++i)
    CHECK_THAT(y.at(i), WithinAbs(x_values[std::size_t(i)] - 0.5, 1e-6));
  CHECK(running_mean.at(0) == 1.0);  // constants: never updated
  CHECK(running_var.at(0) == 3.0);

  SECTION("the backward treats the running statistics as constants") {
    const std::vector<double> dyv{1, -2, 3, 0.5};
    HostTensor dy(DType::f32, {4, 1}, dyv), dx(DType::f32, {4, 1});
    HostTensor dgamma(DType::f32, {1}), dbeta(DType::f32, {1});
    nc_backward_args b{};
    b.dy = dy.view();
    b.x = x.view();
    b.gamma = gamma.view();
    b.running_mean = running_mean.view();
    b.running_var = running_var.view();
    b.dx = dx.view();
    b.dgamma = dgamma.view();
    b.dbeta = dbeta.view();
    const auto answer = backward(p, b);
    INFO(answer.message);
    REQUIRE(answer.status == NC_OK);
    // dx = gamma rstd dy = dy; dgamma = sum dy (x - 1)/2; dbeta = sum dy.
    double dg = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK_THAT(dx.at(std::int64_t(i)), WithinAbs(dyv[i], 1e-6));
      dg += dyv[i] * (x_values[i] - 1.0) / 2.0;
    }
    CHECK_THAT(dgamma.at(0), WithinAbs(dg, 1e-6));
    CHECK_THAT(dbeta.at(0), WithinAbs(2.5, 1e-6));
  }
}

TEST_CASE("batch norm training backward has the closed-form gradients", "[torch][bn]") {
  const bool scale = GENERATE(true, false);
  auto p = closed_form_problem(DType::f32, {4, 1});
  if (!scale) p.flags = 0;
  const std::vector<double> dyv{-0.5, 2, 0.25, 1};
  HostTensor x(DType::f32, {4, 1}, x_values), dy(DType::f32, {4, 1}, dyv),
      gamma(DType::f32, {1}, {2.0});
  HostTensor mean(DType::f32, {1}, {2.5}), saved_rstd(DType::f32, {1}, {rstd});
  HostTensor dx(DType::f32, {4, 1}), dgamma(DType::f32, {1}), dbeta(DType::f32, {1});
  nc_backward_args b{};
  b.x = x.view();
  b.dy = dy.view();
  b.gamma = scale ? gamma.view() : nullptr;
  b.saved_mean = mean.view();
  b.saved_rstd = saved_rstd.view();
  b.dx = dx.view();
  b.dgamma = dgamma.view();
  b.dbeta = dbeta.view();
  const auto answer = backward(p, b);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  // Without scale, gamma = 1. f32 arithmetic on O(1) values: a few ulps.
  const std::vector<double> xh{xhat(1), xhat(2), xhat(3), xhat(4)};
  const auto expected = group_gradients(dyv, xh, (scale ? 2.0 : 1.0) * rstd);
  for (std::size_t i = 0; i < 4; ++i)
    CHECK_THAT(dx.at(std::int64_t(i)), WithinAbs(expected.dx[i], 1e-6));
  CHECK_THAT(dgamma.at(0), WithinAbs(expected.sum_dy_xhat, 1e-6));
  CHECK_THAT(dbeta.at(0), WithinAbs(expected.sum_dy, 1e-6));
}

TEST_CASE("bf16 batch norm with bf16 gamma and f32 statistics takes ATen's mixed path",
          "[torch][bn][bf16]") {
  // The default descriptor bn:bf16 (bf16 gamma/beta, f32 statistics): the
  // adapter widens gamma/beta to f32 (exact) so ATen's mixed kernel runs;
  // its saved statistics are f32, its y is rounded once to bf16.
  auto p = closed_form_problem(DType::bf16, {4, 1});
  p.flags |= NC_FLAG_TRACK_RUNNING_STATS;
  normcheck::testing::Inputs in;
  in.x = HostTensor(DType::bf16, {4, 1}, x_values);
  in.gamma = HostTensor(DType::bf16, {1}, {1.0});
  in.beta = HostTensor(DType::bf16, {1}, {0.0});
  in.running_mean = HostTensor(DType::f32, {1}, {0.0});
  in.running_var = HostTensor(DType::f32, {1}, {1.0});
  auto r = normcheck::testing::run_forward(plugin(), p, in);
  INFO(r.message);
  REQUIRE(r.status == NC_OK);
  CHECK_THAT(r.saved_rstd.at(0), WithinRel(rstd, f32_rel));
  CHECK(r.saved_rstd.at(0) != normcheck::numeric::round_to(DType::bf16, rstd));  // f32, not bf16
  for (std::int64_t i = 0; i < 4; ++i)
    CHECK_THAT(r.y.at(i), WithinRel(xhat(x_values[std::size_t(i)]), 0.00391 + f32_rel));
}

TEST_CASE("a distributed batch norm is declined", "[torch][bn][errors]") {
  auto p = closed_form_problem(DType::f32, {4, 1});
  HostTensor x(DType::f32, {4, 1}, x_values), y(DType::f32, {4, 1});
  HostTensor gamma(DType::f32, {1}, {1.0}), beta(DType::f32, {1}, {0.0});
  nc_collectives collectives{};
  collectives.size = 2;
  collectives.allreduce_sum_f64 = [](void*, double*, std::int64_t) { return 0; };
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  a.collectives = &collectives;
  const auto r = forward(p, a);
  CHECK(r.status == NC_UNSUPPORTED);
  CHECK_THAT(r.message, Contains("SyncBatchNorm"));
  CHECK(y.at(0) == 0.0);
}
