// batch / instance / group norm on the device against a closed form and
// the double reference of host_reference.cpp, in both layouts and every
// mode, with the running-statistics update in both conventions; and
// determinism. Tolerances: device_checks.hpp, scaled where a case says so.
#include <catch2/catch.hpp>

#include <cmath>

#include "device_checks.hpp"
#include "host_reference.hpp"

using namespace normcheck::cuda::testing;
namespace numeric = normcheck::numeric;

namespace {

struct Layout {
  std::int64_t n, c, s;
  bool nhwc;
};

// (N, C, S) as the problem's memory-order shape.
std::vector<std::int64_t> memory_shape(const Layout& l) {
  return l.nhwc ? std::vector<std::int64_t>{l.n, l.s, l.c}
                : std::vector<std::int64_t>{l.n, l.c, l.s};
}

ChannelOp reference_op(nc_op op) {
  return op == NC_OP_BATCH_NORM      ? ChannelOp::batch
         : op == NC_OP_INSTANCE_NORM ? ChannelOp::instance
                                     : ChannelOp::group;
}

}  // namespace

TEST_CASE("batch norm of [1, 2, 3, 4] is the closed form", "[cuda][device][channel]") {
  // One channel, N = 2, S = 2: mean 2.5, biased variance 1.25, unbiased
  // 5/3. torch momentum 0.1: running_mean = 0.9 * 0 + 0.1 * 2.5, running_var
  // = 0.9 * 1 + 0.1 * 5/3. Tolerance: 4 ulps of f32.
  nc_problem p = nt::make_problem(NC_OP_BATCH_NORM, {2, 1, 2}, DType::f32);
  p.flags = NC_FLAG_TRACK_RUNNING_STATS;
  nt::Inputs in;
  in.x = nt::HostTensor(DType::f32, {2, 1, 2}, {1, 2, 3, 4});
  in.running_mean = nt::HostTensor(DType::f32, {1}, {0});
  in.running_var = nt::HostTensor(DType::f32, {1}, {1});
  const auto fwd = nt::run_forward(backend(), p, in);
  REQUIRE(fwd.status == NC_OK);
  const double tol = 4.0 * 0x1p-24;
  const double rstd = 1.0 / std::sqrt(1.25 + 1e-5);
  for (int i = 0; i < 4; ++i) CHECK(fwd.y.at(i) == Approx((i + 1 - 2.5) * rstd).epsilon(tol));
  CHECK(fwd.saved_mean.at(0) == 2.5);
  CHECK(fwd.running_mean.at(0) == Approx(0.25).epsilon(tol));
  CHECK(fwd.running_var.at(0) == Approx(0.9 + 0.1 * 5.0 / 3.0).epsilon(tol));
}

TEST_CASE("batch / instance / group norm agree with the double reference",
          "[cuda][device][channel]") {
  const nc_op op = GENERATE(NC_OP_BATCH_NORM, NC_OP_INSTANCE_NORM, NC_OP_GROUP_NORM);
  // Run view with one and with several chunks per (n, c), a spatial size no
  // vector divides, and NCHW with S == 1 (planned as channels last); then
  // NHWC shapes with channels that do and do not fill a vector.
  const Layout layout =
      GENERATE(Layout{4, 6, 35, false}, Layout{2, 6, 4100, false}, Layout{3, 6, 16, false},
               Layout{64, 12, 1, false}, Layout{3, 24, 25, true}, Layout{2, 6, 49, true});
  const DType data = GENERATE(DType::f32, DType::bf16, DType::f16, DType::f64);
  const nc_mode mode = GENERATE(NC_MODE_TRAIN, NC_MODE_EVAL, NC_MODE_GLOBAL_STATS);
  const bool track_choice = GENERATE(true, false);
  const bool tracked = op != NC_OP_GROUP_NORM && track_choice;
  if (op == NC_OP_GROUP_NORM && track_choice) return;      // group norm has no running statistics
  if (mode != NC_MODE_TRAIN && !tracked) return;           // eval / global stats need them
  if (op == NC_OP_INSTANCE_NORM && layout.s == 1) return;  // instance norm over one element
  INFO("op " << op << " n " << layout.n << " c " << layout.c << " s " << layout.s << " nhwc "
             << layout.nhwc << " data " << numeric::dtype_name(data) << " mode " << mode
             << " tracked " << tracked);

  nc_problem p = nt::make_problem(op, memory_shape(layout), data);
  p.layout = layout.nhwc ? NC_LAYOUT_NHWC : NC_LAYOUT_NCHW;
  p.mode = mode;
  p.flags = NC_FLAG_SCALE | NC_FLAG_SHIFT | (tracked ? unsigned(NC_FLAG_TRACK_RUNNING_STATS) : 0u);
  if (op == NC_OP_GROUP_NORM) p.groups = 3;
  if (numeric::dtype_size(data) == 2)
    nt::set_dtypes(p, data, DType::f32, DType::f32);  // mixed params
  const bool paddle = layout.c % 4 == 0;
  p.momentum_convention = paddle ? NC_MOMENTUM_PADDLE : NC_MOMENTUM_TORCH;
  p.running_var_estimator = layout.n % 2 == 0 ? NC_VARIANCE_UNBIASED : NC_VARIANCE_BIASED;

  // Offset 1e2 sigma: the Welford / Chan merges must not lose it. The f32
  // group mean then carries ~u * 1e2 of error, so the tolerance grows by
  // that conditioning.
  const double offset = 100.0;
  auto in = nt::random_inputs(p, 5, offset);
  auto fwd = nt::run_forward(backend(), p, in);
  REQUIRE(fwd.status == NC_OK);

  ChannelShape sh;
  sh.op = reference_op(op);
  sh.n = layout.n;
  sh.c = layout.c;
  sh.s = layout.s;
  sh.groups = 3;
  sh.channels_last = layout.nhwc;
  RunningUpdate rule;
  rule.momentum = p.momentum;
  rule.paddle = paddle;
  rule.unbiased = p.running_var_estimator == NC_VARIANCE_UNBIASED;
  const bool use_running = mode != NC_MODE_TRAIN;
  const auto ref = channel_forward(in.x.values(), sh, in.gamma.values(), in.beta.values(), p.eps,
                                   use_running, in.running_mean.values(), in.running_var.values(),
                                   tracked && mode == NC_MODE_TRAIN, rule);
  const double acc_u = numeric::unit_roundoff(numeric::accumulation_dtype(data));
  const double tol = forward_tolerance(data) + 64.0 * acc_u * offset;
  CHECK(nt::max_relative_error(fwd.y.values(), ref.y) <= tol);
  if (!use_running) {
    CHECK(nt::max_relative_error(fwd.saved_mean.values(), ref.mean) <= tol);
    CHECK(nt::max_relative_error(fwd.saved_rstd.values(), ref.rstd) <= tol);
  }
  if (tracked) {
    CHECK(nt::max_relative_error(fwd.running_mean.values(), ref.running_mean) <= tol);
    CHECK(nt::max_relative_error(fwd.running_var.values(), ref.running_var) <= tol);
  }

  // Backward from the statistics the forward used: saved (train) or the
  // running ones (eval / global stats, where they are constants).
  const auto mean = use_running ? ref.mean : fwd.saved_mean.values();
  const auto rstd = use_running ? ref.rstd : fwd.saved_rstd.values();
  const auto grad = channel_backward(in.dy.values(), in.x.values(), sh, in.gamma.values(), mean,
                                     rstd, use_running);
  const auto bwd = nt::run_backward(backend(), p, in, fwd);
  REQUIRE(bwd.status == NC_OK);
  const double btol = backward_tolerance(data) + 64.0 * acc_u * offset;
  CHECK(nt::max_relative_error(bwd.dx.values(), grad.dx) <= btol);
  // dgamma / dbeta sum over N * S values: relative to their magnitude.
  const double sums = double(sh.n * sh.s);
  CHECK(nt::max_relative_error(bwd.dgamma.values(), grad.dgamma) <= btol * std::sqrt(sums));
  CHECK(nt::max_relative_error(bwd.dbeta.values(), grad.dbeta) <= btol * std::sqrt(sums));
}

TEST_CASE("channel norms are deterministic: two runs give the same bits",
          "[cuda][device][channel]") {
  const nc_op op = GENERATE(NC_OP_BATCH_NORM, NC_OP_GROUP_NORM);
  const bool nhwc = GENERATE(false, true);
  nc_problem p = nt::make_problem(
      op,
      nhwc ? std::vector<std::int64_t>{8, 20, 20, 32} : std::vector<std::int64_t>{8, 32, 20, 20},
      DType::bf16);
  p.layout = nhwc ? NC_LAYOUT_NHWC : NC_LAYOUT_NCHW;
  if (op == NC_OP_GROUP_NORM) p.groups = 8;
  auto in = nt::random_inputs(p, 9);
  auto a = nt::run_forward(backend(), p, in);
  auto b = nt::run_forward(backend(), p, in);
  REQUIRE(a.status == NC_OK);
  REQUIRE(b.status == NC_OK);
  CHECK(nt::bit_identical(a.y, b.y));
  CHECK(nt::bit_identical(a.saved_mean, b.saved_mean));
  CHECK(nt::bit_identical(a.saved_rstd, b.saved_rstd));
  CHECK(nt::bit_identical(a.running_var, b.running_var));
  const auto ga = nt::run_backward(backend(), p, in, a);
  const auto gb = nt::run_backward(backend(), p, in, b);
  REQUIRE(ga.status == NC_OK);
  CHECK(nt::bit_identical(ga.dx, gb.dx));
  CHECK(nt::bit_identical(ga.dgamma, gb.dgamma));
  CHECK(nt::bit_identical(ga.dbeta, gb.dbeta));
}

TEST_CASE("conv-bn folding matches its formula", "[cuda][device][fold]") {
  // W' = W * g / sqrt(rv + eps), b' = (b - rm) * g / sqrt(rv + eps) + beta,
  // in double and rounded once to f32: tolerance 1 ulp.
  nc_problem p = nt::make_problem(NC_OP_CONV_BN_FOLD, {1, 2, 5, 5}, DType::f32);
  nt::HostTensor w(DType::f32, {3, 2, 1, 1}, {1, 2, 3, 4, 5, 6});
  nt::HostTensor bias(DType::f32, {3}, {0.5, -0.5, 1});
  nt::HostTensor gamma(DType::f32, {3}, {1, 2, -1});
  nt::HostTensor beta(DType::f32, {3}, {0, 1, 2});
  nt::HostTensor rm(DType::f32, {3}, {0.25, 0, -1});
  nt::HostTensor rv(DType::f32, {3}, {1, 4, 0.25});
  nt::HostTensor fw(DType::f32, {3, 2, 1, 1});
  nt::HostTensor fb(DType::f32, {3});
  nc_conv_bn_fold_args a{};
  a.weight = w.view();
  a.bias = bias.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  a.running_mean = rm.view();
  a.running_var = rv.view();
  a.eps = 0.0;
  a.folded_weight = fw.view();
  a.folded_bias = fb.view();
  char message[256] = "";
  REQUIRE(backend().conv_bn_fold(&p, &a, message, sizeof message) == NC_OK);
  const double scale[3] = {1.0, 1.0, -2.0};  // g / sqrt(rv)
  for (int o = 0; o < 3; ++o) {
    CHECK(fw.at(2 * o) == Approx(w.at(2 * o) * scale[o]).epsilon(0x1p-24));
    CHECK(fw.at(2 * o + 1) == Approx(w.at(2 * o + 1) * scale[o]).epsilon(0x1p-24));
    CHECK(fb.at(o) == Approx((bias.at(o) - rm.at(o)) * scale[o] + beta.at(o)).epsilon(0x1p-24));
  }
}

TEST_CASE("batch norm: a NaN channel has NaN statistics; eval dx does not depend on x",
          "[cuda][device][channel][nonfinite]") {
  // Training: channel 1 holds a NaN, so its variance, rstd and running_var
  // are NaN (the goldens' convention), channel 0 is untouched. The clamp of
  // a variance that rounds below zero once turned NaN into 0.
  nc_problem p = nt::make_problem(NC_OP_BATCH_NORM, {2, 2, 2}, DType::f32);
  p.flags = NC_FLAG_TRACK_RUNNING_STATS;
  nt::Inputs in;
  in.x = nt::HostTensor(DType::f32, {2, 2, 2}, {1, 2, 5, std::nan(""), 3, 4, 6, 7});
  in.running_mean = nt::HostTensor(DType::f32, {2}, {0, 0});
  in.running_var = nt::HostTensor(DType::f32, {2}, {1, 1});
  const auto fwd = nt::run_forward(backend(), p, in);
  REQUIRE(fwd.status == NC_OK);
  CHECK(fwd.saved_rstd.at(0) == Approx(1.0 / std::sqrt(1.25 + 1e-5)).epsilon(4.0 * 0x1p-24));
  CHECK(std::isnan(fwd.saved_rstd.at(1)));
  CHECK(std::isnan(fwd.running_var.at(1)));
  CHECK(std::isfinite(fwd.running_var.at(0)));

  // Eval: the statistics are the running ones, constants, so dx = dy gamma
  // rstd whatever x holds. The coefficients of the batch terms were once
  // formed as 0 * sum(dy x-hat), NaN with an inf in x (nightly,
  // bn:*:mode=eval:dist=nonfinite). Tolerance: 4 ulps of f32 (three
  // correctly rounded operations).
  nc_problem e = nt::make_problem(NC_OP_BATCH_NORM, {2, 2, 2}, DType::f32);
  e.flags = NC_FLAG_SCALE | NC_FLAG_TRACK_RUNNING_STATS;
  e.mode = NC_MODE_EVAL;
  nt::Inputs ein;
  ein.x = nt::HostTensor(DType::f32, {2, 2, 2}, {1, INFINITY, -INFINITY, 2, std::nan(""), 3, 4, 5});
  ein.gamma = nt::HostTensor(DType::f32, {2}, {2, -1});
  ein.running_mean = nt::HostTensor(DType::f32, {2}, {0.5, -0.5});
  ein.running_var = nt::HostTensor(DType::f32, {2}, {4, 0.25});
  ein.dy = nt::HostTensor(DType::f32, {2, 2, 2}, {1, -1, 0.5, 2, 3, -2, 1, 1});
  auto efwd = nt::run_forward(backend(), e, ein);
  REQUIRE(efwd.status == NC_OK);
  const auto bwd = nt::run_backward(backend(), e, ein, efwd);
  REQUIRE(bwd.status == NC_OK);
  const double var[2] = {4, 0.25}, gamma[2] = {2, -1};
  for (int i = 0; i < 8; ++i) {
    const int c = (i / 2) % 2;
    const double want = ein.dy.at(i) * gamma[c] / std::sqrt(var[c] + 1e-5);
    CHECK(bwd.dx.at(i) == Approx(want).epsilon(4.0 * 0x1p-24));
  }
}
