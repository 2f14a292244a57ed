// Layer norm through the oneDNN plugin's C table on closed-form inputs:
// rows [1, 2, 3, 4] (mean 2.5, biased variance 1.25) and [10, 20, 30, 40]
// (mean 25, variance 125) normalize, with eps = 0, to the same values.
#include <catch2/catch.hpp>

#include "cpu_bf16.hpp"
#include <cmath>

#include "normcheck/testing/linked_plugin.hpp"

using namespace normcheck::testing::linked_plugin;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using normcheck::numeric::DType;
using normcheck::testing::HostTensor;
using normcheck::testing::make_problem;

namespace {

const std::vector<double> rows{1, 2, 3, 4, 10, 20, 30, 40};
const double rstd0 = 2.0 / std::sqrt(5.0);  // row 0; row 1 has rstd0 / 10
// f32 work on exact sums: sqrt, division and the affine step round a few
// times; 1e-6 relative is ~8 f32 ulps.
constexpr double f32_rel = 1e-6;

double xhat(std::size_t i) {
  return (rows[i % 4] - 2.5) * rstd0;
}

nc_problem closed_form_problem(DType dtype, std::vector<std::int64_t> shape) {
  auto p = make_problem(NC_OP_LAYER_NORM, std::move(shape), dtype);
  p.eps = 0.0;
  return p;
}

}  // namespace

TEST_CASE("layer norm normalizes each row over the trailing dims", "[onednn][ln]") {
  // (2, 4) over the last dim, or (2, 2, 2) from axis 1: both are two rows of four.
  const auto shape = GENERATE(std::vector<std::int64_t>{2, 4}, std::vector<std::int64_t>{2, 2, 2});
  auto p = closed_form_problem(DType::f32, shape);
  p.norm_axis = 1;
  const std::vector<std::int64_t> param_shape(shape.begin() + 1, shape.end());
  HostTensor x(DType::f32, shape, rows), y(DType::f32, shape);
  HostTensor gamma(DType::f32, param_shape, {1, 2, 3, 4}),
      beta(DType::f32, param_shape, {0, 0, 1, 1});
  HostTensor mean(DType::f32, {2}), saved_rstd(DType::f32, {2});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  a.saved_mean = mean.view();
  a.saved_rstd = saved_rstd.view();
  const auto answer = forward(p, a);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  CHECK(mean.at(0) == 2.5);
  CHECK(mean.at(1) == 25.0);
  CHECK_THAT(saved_rstd.at(0), WithinRel(rstd0, f32_rel));
  CHECK_THAT(saved_rstd.at(1), WithinRel(rstd0 / 10, f32_rel));
  const double g[] = {1, 2, 3, 4}, b[] = {0, 0, 1, 1};
  for (std::size_t i = 0; i < 8; ++i)
    CHECK_THAT(y.at(std::int64_t(i)), WithinRel(g[i % 4] * xhat(i) + b[i % 4], f32_rel));
}

TEST_CASE("layer norm with a fused residual normalizes x + residual", "[onednn][ln]") {
  auto p = closed_form_problem(DType::f32, {2, 4});
  p.flags = NC_FLAG_RESIDUAL;
  HostTensor x(DType::f32, {2, 4}, {1, 1, 1, 1, 5, 10, 15, 20});
  HostTensor residual(DType::f32, {2, 4}, {0, 1, 2, 3, 5, 10, 15, 20});
  HostTensor y(DType::f32, {2, 4}), residual_out(DType::f32, {2, 4});
  nc_forward_args a{};
  a.x = x.view();
  a.residual = residual.view();
  a.y = y.view();
  a.residual_out = residual_out.view();
  const auto answer = forward(p, a);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  CHECK(residual_out.values() == rows);  // small integer sums are exact
  for (std::size_t i = 0; i < 8; ++i)
    CHECK_THAT(y.at(std::int64_t(i)), WithinRel(xhat(i), f32_rel));
}

TEST_CASE("layer norm backward has the closed-form gradients", "[onednn][ln]") {
  const bool residual = GENERATE(false, true);
  auto p = closed_form_problem(DType::f32, {2, 4});
  if (residual) p.flags |= NC_FLAG_RESIDUAL;
  const std::vector<double> dyv{1, 0, 0, 0, -0.5, 2, 0.25, 1};
  HostTensor x(DType::f32, {2, 4}, rows), dy(DType::f32, {2, 4}, dyv);
  HostTensor gamma(DType::f32, {4}, {2, 2, 2, 2});
  HostTensor mean(DType::f32, {2}, {2.5, 25}), saved_rstd(DType::f32, {2}, {rstd0, rstd0 / 10});
  HostTensor dx(DType::f32, {2, 4}), dresidual(DType::f32, {2, 4});
  HostTensor dgamma(DType::f32, {4}), dbeta(DType::f32, {4});
  nc_backward_args b{};
  b.x = x.view();
  b.dy = dy.view();
  b.gamma = gamma.view();
  b.saved_mean = mean.view();
  b.saved_rstd = saved_rstd.view();
  b.dx = dx.view();
  b.dgamma = dgamma.view();
  b.dbeta = dbeta.view();
  if (residual) b.dresidual = dresidual.view();
  const auto answer = backward(p, b);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);

  // Per row, in double (linked_plugin.hpp); rstd round-trips through f32: a few
  // ulps of O(1) gradients.
  for (std::size_t r = 0; r < 2; ++r) {
    const std::span<const double> row_dy(dyv.data() + 4 * r, 4);
    const std::vector<double> xh{xhat(4 * r), xhat(4 * r + 1), xhat(4 * r + 2), xhat(4 * r + 3)};
    const auto expected = group_gradients(row_dy, xh, 2.0 * (r == 0 ? rstd0 : rstd0 / 10));
    for (std::size_t j = 0; j < 4; ++j)
      CHECK_THAT(dx.at(std::int64_t(4 * r + j)), WithinAbs(expected.dx[j], 1e-6));
  }
  for (std::size_t j = 0; j < 4; ++j) {
    CHECK_THAT(dgamma.at(std::int64_t(j)),
               WithinAbs(dyv[j] * xhat(j) + dyv[4 + j] * xhat(4 + j), 1e-6));
    CHECK_THAT(dbeta.at(std::int64_t(j)), WithinAbs(dyv[j] + dyv[4 + j], 1e-6));
  }
  if (residual) CHECK(dresidual.values() == dx.values());
}

TEST_CASE("layer norm in bf16 rounds the f32 result once", "[onednn][ln][bf16]") {
  if (!cpu_runs_onednn_bf16()) {
    WARN("skipped: oneDNN 2.6 has no bf16 kernels for this CPU (needs AVX-512)");
    return;
  }
  auto p = closed_form_problem(DType::bf16, {2, 4});
  p.flags = NC_FLAG_SCALE;
  HostTensor x(DType::bf16, {2, 4}, rows), y(DType::bf16, {2, 4});
  HostTensor gamma(DType::bf16, {4}, {1, 1, 1, 1});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.gamma = gamma.view();
  const auto answer = forward(p, a);
  INFO(answer.message);
  REQUIRE(answer.status == NC_OK);
  // One rounding to bf16: 2^-8 relative, plus the f32 work.
  for (std::size_t i = 0; i < 8; ++i)
    CHECK_THAT(y.at(std::int64_t(i)), WithinRel(xhat(i), 0.00391 + f32_rel));
}
