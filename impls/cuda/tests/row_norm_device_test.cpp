// layer_norm / rms_norm on the device against closed forms and the double
// reference of host_reference.cpp; determinism (two runs, same bits) and
// batch invariance (a row's bits do not depend on the batch around it).
// Tolerances: device_checks.hpp, unless a case states its own.
#include <catch2/catch.hpp>

#include <cmath>

#include "device_checks.hpp"
#include "host_reference.hpp"

using namespace normcheck::cuda::testing;
namespace numeric = normcheck::numeric;

namespace {

nc_problem row_problem(nc_op op, std::int64_t rows, std::int64_t hidden, DType data, DType param,
                       bool residual) {
  nc_problem p = nt::make_problem(op, {rows, hidden}, data);
  nt::set_dtypes(p, data, param, DType::f32);
  if (data == DType::f64) nt::set_dtypes(p, data, param, DType::f64);
  if (residual) p.flags |= NC_FLAG_RESIDUAL;
  return p;
}

}  // namespace

TEST_CASE("layer norm of [1, 2, 3, 4] is the closed form", "[cuda][device][row]") {
  // mean 2.5, variance 1.25; y = (x - 2.5) / sqrt(1.25 + eps) * 2 + 1.
  // Tolerance: 4 ulps of f32 (a handful of correctly rounded operations),
  // of the terms, not of y: y = 1 - 0.894 cancels, so a last-ulp error in
  // x-hat gamma is ~10 ulps of y (first seen on an H200: 6.7 ulps of y).
  nc_problem p = nt::make_problem(NC_OP_LAYER_NORM, {1, 4}, DType::f32);
  nt::Inputs in;
  in.x = nt::HostTensor(DType::f32, {1, 4}, {1, 2, 3, 4});
  in.gamma = nt::HostTensor(DType::f32, {4}, {2, 2, 2, 2});
  in.beta = nt::HostTensor(DType::f32, {4}, {1, 1, 1, 1});
  in.dy = nt::HostTensor(DType::f32, {1, 4}, {1, 1, 1, 1});
  auto fwd = nt::run_forward(backend(), p, in);
  REQUIRE(fwd.status == NC_OK);
  const double rstd = 1.0 / std::sqrt(1.25 + 1e-5);
  const double tol = 4.0 * 0x1p-24;
  for (int i = 0; i < 4; ++i) {
    const double scaled = (i + 1 - 2.5) * rstd * 2;
    CHECK(std::fabs(fwd.y.at(i) - (scaled + 1)) <= tol * (std::fabs(scaled) + 1));
  }
  CHECK(fwd.saved_mean.at(0) == 2.5);
  CHECK(fwd.saved_rstd.at(0) == Approx(rstd).epsilon(tol));

  // Uniform dy: the mean term cancels gamma dy and x-hat has mean 0, so
  // dx = 0 up to rounding; dbeta = dy, dgamma = x-hat.
  const auto bwd = nt::run_backward(backend(), p, in, fwd);
  REQUIRE(bwd.status == NC_OK);
  for (int i = 0; i < 4; ++i) {
    CHECK(std::fabs(bwd.dx.at(i)) < 1e-6);
    CHECK(bwd.dbeta.at(i) == 1.0);
    CHECK(bwd.dgamma.at(i) == Approx((i + 1 - 2.5) * rstd).epsilon(tol));
  }
}

TEST_CASE("rms norm of [1, 2, 3, 4] is the closed form", "[cuda][device][row]") {
  // mean square 7.5: y = x / sqrt(7.5 + eps). Tolerance: 4 ulps of f32.
  nc_problem p = nt::make_problem(NC_OP_RMS_NORM, {1, 4}, DType::f32);
  p.flags = 0;
  nt::Inputs in;
  in.x = nt::HostTensor(DType::f32, {1, 4}, {1, 2, 3, 4});
  const auto fwd = nt::run_forward(backend(), p, in);
  REQUIRE(fwd.status == NC_OK);
  const double rstd = 1.0 / std::sqrt(7.5 + 1e-5);
  for (int i = 0; i < 4; ++i) CHECK(fwd.y.at(i) == Approx((i + 1) * rstd).epsilon(4.0 * 0x1p-24));
  CHECK(fwd.saved_rstd.at(0) == Approx(rstd).epsilon(4.0 * 0x1p-24));
}

TEST_CASE("layer / rms norm agree with the double reference", "[cuda][device][row]") {
  struct Case {
    std::int64_t rows, hidden;
  };
  // 1 and 1025: fallback; 4096 and 8192: rows in registers; 65536: fallback
  // with the row in shared memory.
  const Case shape =
      GENERATE(Case{3, 1}, Case{5, 1025}, Case{6, 4096}, Case{3, 8192}, Case{2, 65536});
  const nc_op op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  struct Types {
    DType data, param;
  };
  const Types types = GENERATE(Types{DType::f32, DType::f32}, Types{DType::bf16, DType::f32},
                               Types{DType::bf16, DType::bf16}, Types{DType::f16, DType::f16},
                               Types{DType::f64, DType::f64});
  const bool residual = GENERATE(false, true);
  INFO("rows " << shape.rows << " hidden " << shape.hidden << " op " << op << " data "
               << numeric::dtype_name(types.data) << " param " << numeric::dtype_name(types.param)
               << " residual " << residual);

  const nc_problem p = row_problem(op, shape.rows, shape.hidden, types.data, types.param, residual);
  // A large common offset (1e4 sigma; 1e2 for 16-bit data, whose spacing at
  // 1e4 is coarser than sigma) is where E[x^2] - E[x]^2 fails.
  const double offset = numeric::dtype_size(types.data) == 2 ? 1e2 : 1e4;
  auto in = nt::random_inputs(p, 7, op == NC_OP_LAYER_NORM ? offset : 0.0);
  auto fwd = nt::run_forward(backend(), p, in);
  REQUIRE(fwd.status == NC_OK);
  const bool rms = op == NC_OP_RMS_NORM;
  const auto ref =
      row_forward(in.x.values(), residual ? in.residual.values() : Values{}, types.data, shape.rows,
                  shape.hidden, in.gamma.values(), in.beta.values(), p.eps, rms);
  const double tol = forward_tolerance(types.data);
  CHECK(nt::max_relative_error(fwd.y.values(), ref.y) <= tol);
  if (residual) CHECK(nt::max_relative_error(fwd.residual_out.values(), ref.residual_out) <= tol);
  if (!rms) CHECK(nt::max_relative_error(fwd.saved_mean.values(), ref.mean) <= tol);
  CHECK(nt::max_relative_error(fwd.saved_rstd.values(), ref.rstd) <= tol);

  // The backward from the statistics the forward saved (the ABI's inputs).
  const auto x = residual ? fwd.residual_out.values() : in.x.values();
  const auto grad =
      row_backward(in.dy.values(), x, in.gamma.values(), rms ? Values{} : fwd.saved_mean.values(),
                   fwd.saved_rstd.values(), shape.rows, shape.hidden, rms);
  const auto bwd = nt::run_backward(backend(), p, in, fwd);
  REQUIRE(bwd.status == NC_OK);
  const double btol = backward_tolerance(types.data);
  CHECK(nt::max_relative_error(bwd.dx.values(), grad.dx) <= btol);
  if (residual) CHECK(nt::bit_identical(bwd.dresidual, bwd.dx));
  // dgamma / dbeta sum over rows: |error| <= rows * per-row error.
  CHECK(nt::max_relative_error(bwd.dgamma.values(), grad.dgamma) <= btol * double(shape.rows));
  CHECK(nt::max_relative_error(bwd.dbeta.values(), grad.dbeta) <= btol * double(shape.rows));
}

TEST_CASE("layer / rms norm are deterministic: two runs give the same bits",
          "[cuda][device][row]") {
  const std::int64_t hidden = GENERATE(1025, 4096);
  const nc_op op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  const nc_problem p = row_problem(op, 300, hidden, DType::bf16, DType::f32, false);
  auto in = nt::random_inputs(p, 11);
  auto a = nt::run_forward(backend(), p, in);
  auto b = nt::run_forward(backend(), p, in);
  REQUIRE(a.status == NC_OK);
  REQUIRE(b.status == NC_OK);
  CHECK(nt::bit_identical(a.y, b.y));
  CHECK(nt::bit_identical(a.saved_rstd, b.saved_rstd));
  const auto ga = nt::run_backward(backend(), p, in, a);
  const auto gb = nt::run_backward(backend(), p, in, b);
  REQUIRE(ga.status == NC_OK);
  CHECK(nt::bit_identical(ga.dx, gb.dx));
  CHECK(nt::bit_identical(ga.dgamma, gb.dgamma));
  CHECK(nt::bit_identical(ga.dbeta, gb.dbeta));
}

TEST_CASE("layer / rms norm are batch invariant", "[cuda][device][row]") {
  // Row 7 of a 33-row batch and the same row alone give the same bits: y,
  // the saved statistics and dx (dgamma sums over the batch, so it is not
  // compared).
  const std::int64_t hidden = GENERATE(1025, 4096, 8192, 65536);
  const nc_op op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  const bool residual = GENERATE(false, true);
  const nc_problem many = row_problem(op, 33, hidden, DType::bf16, DType::f32, residual);
  const nc_problem one = row_problem(op, 1, hidden, DType::bf16, DType::f32, residual);
  auto in_many = nt::random_inputs(many, 3, 10.0);
  auto in_one = nt::random_inputs(one, 4);
  copy_row(in_many.x, 7, in_one.x, 0, hidden);
  copy_row(in_many.dy, 7, in_one.dy, 0, hidden);
  if (residual) copy_row(in_many.residual, 7, in_one.residual, 0, hidden);
  in_one.gamma = in_many.gamma;
  in_one.beta = in_many.beta;
  auto f_many = nt::run_forward(backend(), many, in_many);
  auto f_one = nt::run_forward(backend(), one, in_one);
  REQUIRE(f_many.status == NC_OK);
  REQUIRE(f_one.status == NC_OK);
  CHECK(row_bytes(f_many.y, 7, hidden) == row_bytes(f_one.y, 0, hidden));
  CHECK(row_bytes(f_many.saved_rstd, 7, 1) == row_bytes(f_one.saved_rstd, 0, 1));
  const auto g_many = nt::run_backward(backend(), many, in_many, f_many);
  const auto g_one = nt::run_backward(backend(), one, in_one, f_one);
  REQUIRE(g_many.status == NC_OK);
  REQUIRE(g_one.status == NC_OK);
  CHECK(row_bytes(g_many.dx, 7, hidden) == row_bytes(g_one.dx, 0, hidden));
}

TEST_CASE("unsupported gamma/beta pairings are declined on the device too", "[cuda][device][row]") {
  nc_problem p = nt::make_problem(NC_OP_LAYER_NORM, {4, 64}, DType::bf16);
  nt::set_dtypes(p, DType::bf16, DType::f16, DType::f32);
  char reason[512] = "";
  CHECK(backend().supports(&p, reason, sizeof reason) == NC_UNSUPPORTED);
  CHECK_THAT(std::string(reason), Catch::Matchers::Contains("gamma/beta"));
}

TEST_CASE("a row holding NaN has NaN statistics; the other rows keep theirs",
          "[cuda][device][row][nonfinite]") {
  // The goldens' convention (IEEE propagation): a NaN row's variance is NaN,
  // so rstd and every y of the row are NaN. Clamping the variance with
  // `v > 0 ? v : 0` once turned it into 0 and reported rstd = 1/sqrt(eps)
  // (found by the nightly's dist=nonfinite cases on an H200). Row 0 is
  // finite and compared with the reference (device_checks.hpp tolerance).
  // 8 and 4096: rows in registers; 1025: the generic kernel.
  const std::int64_t hidden = GENERATE(8, 1025, 4096);
  const nc_op op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  INFO("hidden " << hidden << " op " << op);
  const nc_problem p = row_problem(op, 2, hidden, DType::f32, DType::f32, false);
  auto in = nt::random_inputs(p, 11);
  in.x.set(hidden + hidden / 2, std::nan(""));
  const auto fwd = nt::run_forward(backend(), p, in);
  REQUIRE(fwd.status == NC_OK);
  CHECK(std::isnan(fwd.saved_rstd.at(1)));
  for (std::int64_t j = 0; j < hidden; ++j) CHECK(std::isnan(fwd.y.at(hidden + j)));
  const auto x = in.x.values();
  const auto ref = row_forward(Values(x.begin(), x.begin() + hidden), {}, DType::f32, 1, hidden,
                               in.gamma.values(), in.beta.values(), p.eps, op == NC_OP_RMS_NORM);
  const auto y = fwd.y.values();
  CHECK(nt::max_relative_error(Values(y.begin(), y.begin() + hidden), ref.y) <=
        forward_tolerance(DType::f32));
  CHECK(fwd.saved_rstd.at(0) == Approx(ref.rstd[0]).epsilon(forward_tolerance(DType::f32)));
}
