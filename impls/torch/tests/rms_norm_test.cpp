// RMS norm, composed from ATen ops as LLaMA-style PyTorch code does, on
// closed-form rows: [1, 2, 3, 4] has mean square 7.5, [2, 4, 6, 8] 30, so
// with eps = 0, rstd = 1/sqrt(7.5) and 1/sqrt(30).
#include <catch2/catch.hpp>
#include <cmath>

#include "normcheck/testing/linked_plugin.hpp"

using namespace normcheck::testing::linked_plugin;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using normcheck::numeric::DType;
using normcheck::testing::HostTensor;
using normcheck::testing::Inputs;
using normcheck::testing::make_problem;
using normcheck::testing::run_backward;
using normcheck::testing::run_forward;

namespace {

const std::vector<double> x_values{1, 2, 3, 4, 2, 4, 6, 8};
const double rstd[] = {1.0 / std::sqrt(7.5), 1.0 / std::sqrt(30.0)};

}  // namespace

TEST_CASE("rms norm forward and autograd backward match the closed forms", "[torch][rms]") {
  const auto dtype = GENERATE(DType::f32, DType::f64);
  // f32: the composition rounds a handful of times in f32; f64 stays in f64.
  const double tol = dtype == DType::f64 ? 1e-14 : 2e-6;
  auto p = make_problem(NC_OP_RMS_NORM, {2, 4}, dtype);
  p.eps = 0.0;
  p.flags = NC_FLAG_SCALE;
  Inputs in;
  in.x = HostTensor(dtype, {2, 4}, x_values);
  in.gamma = HostTensor(dtype, {4}, {1, 2, 3, 4});
  const std::vector<double> dyv{1, 0, -1, 0.5, 0.25, 1, 0, -2};
  in.dy = HostTensor(dtype, {2, 4}, dyv);
  auto f = run_forward(plugin(), p, in);
  INFO(f.message);
  REQUIRE(f.status == NC_OK);
  const double g[] = {1, 2, 3, 4};
  for (std::size_t r = 0; r < 2; ++r) {
    CHECK_THAT(f.saved_rstd.at(std::int64_t(r)), WithinRel(rstd[r], tol));
    for (std::size_t j = 0; j < 4; ++j)
      CHECK_THAT(f.y.at(std::int64_t(4 * r + j)),
                 WithinRel(g[j] * x_values[4 * r + j] * rstd[r], tol));
  }

  auto b = run_backward(plugin(), p, in, f);
  INFO(b.message);
  REQUIRE(b.status == NC_OK);
  // dx_j = rstd (g_j dy_j - x_j rstd^2 mean_i(g_i dy_i x_i)); dgamma_j = sum_rows dy_j x_j rstd.
  double dgamma[4] = {0, 0, 0, 0};
  for (std::size_t r = 0; r < 2; ++r) {
    double m = 0;
    for (std::size_t i = 0; i < 4; ++i) m += g[i] * dyv[4 * r + i] * x_values[4 * r + i] / 4;
    for (std::size_t j = 0; j < 4; ++j) {
      const std::size_t k = 4 * r + j;
      CHECK_THAT(
          b.dx.at(std::int64_t(k)),
          WithinAbs(rstd[r] * (g[j] * dyv[k] - x_values[k] * rstd[r] * rstd[r] * m), 10 * tol));
      dgamma[j] += dyv[k] * x_values[k] * rstd[r];
    }
  }
  for (std::size_t j = 0; j < 4; ++j)
    CHECK_THAT(b.dgamma.at(std::int64_t(j)), WithinAbs(dgamma[j], 10 * tol));
}

TEST_CASE("bf16 rms norm rounds the normalized value before gamma, as the composition does",
          "[torch][rms][bf16]") {
  // gamma = 3 after bf16(x * rstd): y = bf16(3 * bf16(x * rstd)), which can
  // differ from a single rounding of 3 * x * rstd. Exact double emulation here.
  auto p = make_problem(NC_OP_RMS_NORM, {1, 4}, DType::bf16);
  p.eps = 0.0;
  p.flags = NC_FLAG_SCALE;
  Inputs in;
  in.x = HostTensor(DType::bf16, {1, 4}, {1, 2, 3, 4});
  in.gamma = HostTensor(DType::bf16, {4}, {3, 3, 3, 3});
  auto f = run_forward(plugin(), p, in);
  INFO(f.message);
  REQUIRE(f.status == NC_OK);
  using normcheck::numeric::round_to;
  const double r = double(float(1.0 / std::sqrt(double(float(7.5)))));
  for (std::int64_t j = 0; j < 4; ++j) {
    const double normalized = round_to(DType::bf16, double(float(double(j + 1) * r)));
    // f32 rsqrt may differ from the correctly rounded one by an ulp, which
    // can move a bf16 tie: allow one bf16 ulp (2^-7 relative).
    CHECK_THAT(f.y.at(j), WithinRel(round_to(DType::bf16, 3 * normalized), 0.0079));
  }
}
