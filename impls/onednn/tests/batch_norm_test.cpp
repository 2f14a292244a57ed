// Batch norm through the oneDNN plugin's C table on inputs whose results
// have closed forms. x = [1, 2, 3, 4] per channel: mean 2.5, biased
// variance 1.25, and with eps = 0, rstd = 2/sqrt(5).
#include <catch2/catch.hpp>

#include "cpu_bf16.hpp"
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
// oneDNN works in f32. The sums here are exact; sqrt, the division and the
// affine step round a few times, so results stay within ~8 f32 ulps (1e-6).
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

TEST_CASE("batch norm training gives the closed-form y and saved statistics", "[onednn][bn]") {
  const auto layout = GENERATE(NC_LAYOUT_NCHW, NC_LAYOUT_NHWC);
  // One channel of four values: (N=2, C=1, W=2) or, channels last, (N=2, W=2, C=1).
  const std::vector<std::int64_t> shape = layout == NC_LAYOUT_NCHW
                                              ? std::vector<std::int64_t>{2, 1, 2}
                                              : std::vector<std::int64_t>{2, 2, 1};
  auto p = closed_form_problem(DType::f32, shape);
  p.layout = layout;
  HostTensor x(DType::f32, shape, x_values), y(DType::f32, shape);
  HostTensor gamma(DType::f32, {1}, {2.0}), beta(DType::f32, {1}, {0.5});
  HostTensor mean(DType::f32, {1}), saved_rstd(DType::f32, {1});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  a.saved_mean = mean.view();
  a.saved_rstd = saved_rstd.view();

  const auto r = forward(p, a);
  REQUIRE(r.status == NC_OK);
  CHECK(mean.at(0) == 2.5);
  CHECK_THAT(saved_rstd.at(0), WithinRel(rstd, f32_rel));
  for (std::size_t i = 0; i < 4; ++i)
    CHECK_THAT(y.at(std::int64_t(i)), WithinRel(2.0 * xhat(x_values[i]) + 0.5, f32_rel));
}

TEST_CASE("batch norm channels are independent in the channels-last layout", "[onednn][bn]") {
  // (N=2, W=2, C=2): channel 1 holds 10x channel 0, so with eps = 0 both
  // normalize to the same values.
  auto p = closed_form_problem(DType::f32, {2, 2, 2});
  p.layout = NC_LAYOUT_NHWC;
  p.flags = 0;
  HostTensor x(DType::f32, {2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40}), y(DType::f32, {2, 2, 2});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  const auto answer = forward(p, a);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  for (std::int64_t i = 0; i < 4; ++i) {
    CHECK_THAT(y.at(2 * i), WithinRel(xhat(x_values[std::size_t(i)]), f32_rel));
    CHECK_THAT(y.at(2 * i + 1), WithinRel(xhat(x_values[std::size_t(i)]), f32_rel));
  }
}

TEST_CASE("batch norm running statistics follow the problem's convention", "[onednn][bn]") {
  // From running (0, 1) with momentum 0.1 and the batch (2.5, 1.25 biased,
  // 5/3 unbiased over n = 4).
  struct Case {
    nc_momentum_convention convention;
    nc_variance_estimator estimator;
    double mean, var;
  };
  const auto c =
      GENERATE(Case{NC_MOMENTUM_TORCH, NC_VARIANCE_UNBIASED, 0.25, 0.9 + 0.1 * 5.0 / 3.0},
               Case{NC_MOMENTUM_TORCH, NC_VARIANCE_BIASED, 0.25, 0.9 + 0.1 * 1.25},
               Case{NC_MOMENTUM_PADDLE, NC_VARIANCE_UNBIASED, 2.25, 0.1 + 0.9 * 5.0 / 3.0},
               Case{NC_MOMENTUM_PADDLE, NC_VARIANCE_BIASED, 2.25, 0.1 + 0.9 * 1.25});
  auto p = closed_form_problem(DType::f32, {4, 1});
  p.flags = NC_FLAG_TRACK_RUNNING_STATS;
  p.momentum_convention = c.convention;
  p.running_var_estimator = c.estimator;
  HostTensor x(DType::f32, {4, 1}, x_values), y(DType::f32, {4, 1});
  HostTensor running_mean(DType::f32, {1}, {0.0}), running_var(DType::f32, {1}, {1.0});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.running_mean = running_mean.view();
  a.running_var = running_var.view();
  const auto answer = forward(p, a);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  // oneDNN's batch moments are exact here; the blend is done in double and
  // rounded once to f32 (half an ulp, 3e-8).
  CHECK_THAT(running_mean.at(0), WithinRel(c.mean, 1e-7));
  CHECK_THAT(running_var.at(0), WithinRel(c.var, 1e-7));
}

TEST_CASE("batch norm eval and global stats normalize with the running statistics",
          "[onednn][bn]") {
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
  const auto answer = forward(p, a);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  // y = 2 (x - 1) / 2 + 0.5 = x - 0.5: every step is exact in f32.
  for (std::int64_t i = 0; i < 4; ++i) CHECK(y.at(i) == x_values[std::size_t(i)] - 0.5);
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
    // dx = gamma * rstd * dy = dy; dgamma = sum dy (x - 1)/2; dbeta = sum dy:
    // small sums of dyadic numbers, exact in f32.
    double dg = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(dx.at(std::int64_t(i)) == dyv[i]);
      dg += dyv[i] * (x_values[i] - 1.0) / 2.0;
    }
    CHECK(dgamma.at(0) == dg);
    CHECK(dbeta.at(0) == 2.5);
  }
}

TEST_CASE("batch norm training backward has the closed-form gradients", "[onednn][bn]") {
  auto p = closed_form_problem(DType::f32, {4, 1});
  const auto dyv = GENERATE(std::vector<double>{1, 1, 1, 1}, std::vector<double>{1, 0, 0, 0},
                            std::vector<double>{-0.5, 2, 0.25, 1});
  HostTensor x(DType::f32, {4, 1}, x_values), dy(DType::f32, {4, 1}, dyv),
      gamma(DType::f32, {1}, {2.0});
  HostTensor mean(DType::f32, {1}, {2.5}), saved_rstd(DType::f32, {1}, {rstd});
  HostTensor dx(DType::f32, {4, 1}), dgamma(DType::f32, {1}), dbeta(DType::f32, {1});
  nc_backward_args b{};
  b.x = x.view();
  b.dy = dy.view();
  b.gamma = gamma.view();
  b.saved_mean = mean.view();
  b.saved_rstd = saved_rstd.view();
  b.dx = dx.view();
  b.dgamma = dgamma.view();
  b.dbeta = dbeta.view();
  const auto answer = backward(p, b);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);

  const std::vector<double> xh{xhat(1), xhat(2), xhat(3), xhat(4)};
  const auto expected = group_gradients(dyv, xh, 2.0 * rstd);
  // rstd passes through f32 and back through the variance (statistics.hpp):
  // a few f32 ulps, so an absolute 1e-6 on O(1) gradients.
  for (std::size_t i = 0; i < 4; ++i)
    CHECK_THAT(dx.at(std::int64_t(i)), WithinAbs(expected.dx[i], 1e-6));
  CHECK_THAT(dgamma.at(0), WithinAbs(expected.sum_dy_xhat, 1e-6));
  CHECK_THAT(dbeta.at(0), WithinAbs(expected.sum_dy, 1e-6));
}

TEST_CASE("batch norm without scale still returns dgamma", "[onednn][bn]") {
  auto p = closed_form_problem(DType::f32, {4, 1});
  p.flags = 0;
  HostTensor x(DType::f32, {4, 1}, x_values), dy(DType::f32, {4, 1}, x_values);
  HostTensor mean(DType::f32, {1}, {2.5}), saved_rstd(DType::f32, {1}, {rstd});
  HostTensor dx(DType::f32, {4, 1}), dgamma(DType::f32, {1});
  nc_backward_args b{};
  b.x = x.view();
  b.dy = dy.view();
  b.saved_mean = mean.view();
  b.saved_rstd = saved_rstd.view();
  b.dx = dx.view();
  b.dgamma = dgamma.view();
  const auto answer = backward(p, b);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  // dgamma = sum x xhat = sum (x - 2.5) xhat = 4 var rstd = 5 rstd.
  CHECK_THAT(dgamma.at(0), WithinRel(5.0 * rstd, f32_rel));
}

TEST_CASE("batch norm in bf16 rounds the f32 result once", "[onednn][bn][bf16]") {
  if (!cpu_runs_onednn_bf16()) {
    WARN("skipped: oneDNN 2.6 has no bf16 kernels for this CPU (needs AVX-512)");
    return;
  }
  auto p = closed_form_problem(DType::bf16, {4, 1});
  p.flags = 0;
  HostTensor x(DType::bf16, {4, 1}, x_values), y(DType::bf16, {4, 1});
  HostTensor mean(DType::f32, {1}), saved_rstd(DType::f32, {1});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.saved_mean = mean.view();
  a.saved_rstd = saved_rstd.view();
  const auto answer = forward(p, a);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  CHECK_THAT(saved_rstd.at(0), WithinRel(rstd, f32_rel));
  // One rounding to bf16: half an ulp, 2^-8 relative, plus the f32 work.
  for (std::int64_t i = 0; i < 4; ++i)
    CHECK_THAT(y.at(i), WithinRel(xhat(x_values[std::size_t(i)]), 0.00391 + f32_rel));
}

TEST_CASE("batch norm reports malformed calls", "[onednn][bn][errors]") {
  auto p = closed_form_problem(DType::f32, {4, 1});
  HostTensor x(DType::f32, {4, 1}, x_values), y(DType::f32, {4, 1});
  HostTensor gamma(DType::f32, {1}, {1.0}), beta(DType::f32, {1}, {0.0});
  HostTensor y16(DType::bf16, {4, 1}), y2(DType::f32, {2, 2});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  nc_collectives collectives{};
  collectives.size = 2;
  collectives.allreduce_sum_f64 = [](void*, double*, std::int64_t) { return 0; };

  struct Case {
    const char* what;
    nc_status status;
    const char* message;
  };
  const auto c =
      GENERATE(Case{"missing gamma", NC_INVALID_ARGUMENT, "gamma"},
               Case{"wrong dtype", NC_INVALID_ARGUMENT, "y: dtype bf16"},
               Case{"wrong shape", NC_INVALID_ARGUMENT, "y: shape [2, 2]"},
               Case{"tracking without running stats", NC_INVALID_ARGUMENT, "running_mean"},
               Case{"distributed", NC_UNSUPPORTED, "distributed"});
  const std::string what = c.what;
  if (what == "missing gamma") a.gamma = nullptr;
  if (what == "wrong dtype") a.y = y16.view();
  if (what == "wrong shape") a.y = y2.view();
  if (what == "tracking without running stats") p.flags |= NC_FLAG_TRACK_RUNNING_STATS;
  if (what == "distributed") a.collectives = &collectives;
  INFO(what);
  const auto r = forward(p, a);
  CHECK(r.status == c.status);
  CHECK_THAT(r.message, Contains(c.message));
  CHECK(y.at(0) == 0.0);  // nothing was written
}
