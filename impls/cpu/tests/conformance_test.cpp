// Both built-in backends against values worked out by hand, and against the
// conventions of the ABI (running statistics, eval mode, fused residual,
// dtypes, NaN propagation). Each case runs on naive and on cpu.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "normcheck/cpu/backend.hpp"
#include "normcheck/naive/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::testing;

namespace {

const nc_backend_v1& any_backend() {
  return *GENERATE(&naive::backend_table(), &cpu::backend_table());
}

// A few roundings of f64 arithmetic.
constexpr double f64_tolerance = 1e-14;

void require_values(const HostTensor& t, const std::vector<double>& expected, double tolerance) {
  REQUIRE(t.count() == std::int64_t(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(t.at(std::int64_t(i)) == Approx(expected[i]).epsilon(tolerance).margin(tolerance));
  }
}

}  // namespace

TEST_CASE("layer norm and rms norm of [1, 2, 3, 4]", "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  Inputs in;
  in.x = HostTensor(DType::f64, {1, 4}, {1, 2, 3, 4});
  in.gamma = HostTensor(DType::f64, {4}, {1, 2, 1, 2});
  in.beta = HostTensor(DType::f64, {4}, {0, 0, 1, 1});

  SECTION("layer norm: mean 2.5, biased variance 1.25") {
    auto p = make_problem(NC_OP_LAYER_NORM, {1, 4});
    p.eps = 0.0;
    const auto r = run_forward(backend, p, in);
    REQUIRE(r.status == NC_OK);
    const double s = std::sqrt(1.25);
    require_values(r.y, {-1.5 / s, -1.0 / s, 1 + 0.5 / s, 1 + 3.0 / s}, f64_tolerance);
    require_values(r.saved_mean, {2.5}, f64_tolerance);
    require_values(r.saved_rstd, {1 / s}, f64_tolerance);
  }
  SECTION("rms norm: mean square 7.5, eps inside the square root") {
    auto p = make_problem(NC_OP_RMS_NORM, {1, 4});
    p.eps = 0.5;
    const auto r = run_forward(backend, p, in);
    REQUIRE(r.status == NC_OK);
    const double rstd = 1 / std::sqrt(8.0);
    require_values(r.y, {rstd, 4 * rstd, 1 + 3 * rstd, 1 + 8 * rstd}, f64_tolerance);
    require_values(r.saved_rstd, {rstd}, f64_tolerance);
  }
}

TEST_CASE("batch norm statistics and running-statistics conventions", "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  // Channel 0 holds {1, 2, 3, 4}: mean 2.5, biased variance 1.25, unbiased 5/3.
  // Channel 1 holds {10, 20, 30, 40}: mean 25, biased 125, unbiased 500/3.
  auto p = make_problem(NC_OP_BATCH_NORM, {2, 2, 2});
  p.eps = 0.0;
  p.flags = NC_FLAG_TRACK_RUNNING_STATS;
  Inputs in;
  in.x = HostTensor(DType::f64, {2, 2, 2}, {1, 2, 10, 20, 3, 4, 30, 40});
  in.running_mean = HostTensor(DType::f64, {2}, {0, 1});
  in.running_var = HostTensor(DType::f64, {2}, {1, 2});
  const auto convention = GENERATE(NC_MOMENTUM_TORCH, NC_MOMENTUM_PADDLE);
  const auto estimator = GENERATE(NC_VARIANCE_UNBIASED, NC_VARIANCE_BIASED);
  p.momentum_convention = convention;
  p.running_var_estimator = estimator;
  p.momentum = 0.1;
  const auto r = run_forward(backend, p, in);
  REQUIRE(r.status == NC_OK);
  const double s0 = std::sqrt(1.25), s1 = std::sqrt(125.0);
  require_values(r.y,
                 {-1.5 / s0, -0.5 / s0, -15 / s1, -5 / s1, 0.5 / s0, 1.5 / s0, 5 / s1, 15 / s1},
                 f64_tolerance);
  require_values(r.saved_mean, {2.5, 25}, f64_tolerance);
  require_values(r.saved_rstd, {1 / s0, 1 / s1}, f64_tolerance);
  const double keep = convention == NC_MOMENTUM_TORCH ? 0.9 : 0.1;
  const double v0 = estimator == NC_VARIANCE_UNBIASED ? 5.0 / 3 : 1.25;
  const double v1 = estimator == NC_VARIANCE_UNBIASED ? 500.0 / 3 : 125.0;
  require_values(r.running_mean, {keep * 0 + (1 - keep) * 2.5, keep * 1 + (1 - keep) * 25},
                 f64_tolerance);
  require_values(r.running_var, {keep * 1 + (1 - keep) * v0, keep * 2 + (1 - keep) * v1},
                 f64_tolerance);
}

TEST_CASE("instance norm tracks the batch average of per-instance statistics", "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  // Instance 0: {1, 2, 3}, mean 2, unbiased variance 1; instance 1: {2, 4, 6},
  // mean 4, unbiased 4. PyTorch folds in the averages 3 and 2.5.
  auto p = make_problem(NC_OP_INSTANCE_NORM, {2, 1, 3});
  p.flags = NC_FLAG_TRACK_RUNNING_STATS;
  p.eps = 0.0;
  Inputs in;
  in.x = HostTensor(DType::f64, {2, 1, 3}, {1, 2, 3, 2, 4, 6});
  in.running_mean = HostTensor(DType::f64, {1}, {1});
  in.running_var = HostTensor(DType::f64, {1}, {1});
  const auto r = run_forward(backend, p, in);
  REQUIRE(r.status == NC_OK);
  const double a = std::sqrt(1.5);  // (x - mean) / sqrt(biased var) = (-1, 0, 1) * sqrt(3/2)
  require_values(r.y, {-a, 0, a, -a, 0, a}, f64_tolerance);
  require_values(r.saved_mean, {2, 4}, f64_tolerance);
  require_values(r.running_mean, {0.9 * 1 + 0.1 * 3}, f64_tolerance);
  require_values(r.running_var, {0.9 * 1 + 0.1 * 2.5}, f64_tolerance);

  SECTION("eval normalizes every instance with the running statistics") {
    p.mode = NC_MODE_EVAL;
    const auto e = run_forward(backend, p, in);
    REQUIRE(e.status == NC_OK);
    require_values(e.y, {0, 1, 2, 1, 3, 5}, f64_tolerance);
    require_values(e.running_mean, {1}, 0.0);  // untouched
  }
}

TEST_CASE("group norm of two groups with per-channel gamma", "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  const auto layout = GENERATE(NC_LAYOUT_NCHW, NC_LAYOUT_NHWC);
  // Groups {1, 3} (mean 2, variance 1) and {5, 9} (mean 7, variance 4), one
  // spatial element, so both layouts hold the same bytes.
  auto p = make_problem(NC_OP_GROUP_NORM, {1, 4, 1});
  if (layout == NC_LAYOUT_NHWC) {
    p.layout = NC_LAYOUT_NHWC;
    p.shape[1] = 1;
    p.shape[2] = 4;
  }
  p.groups = 2;
  p.eps = 0.0;
  p.flags = NC_FLAG_SCALE;
  Inputs in;
  in.x = HostTensor(DType::f64, {p.shape[0], p.shape[1], p.shape[2]}, {1, 3, 5, 9});
  in.gamma = HostTensor(DType::f64, {4}, {1, 2, 3, 4});
  const auto r = run_forward(backend, p, in);
  REQUIRE(r.status == NC_OK);
  require_values(r.y, {-1, 2, -3, 4}, f64_tolerance);
  require_values(r.saved_mean, {2, 7}, f64_tolerance);
  require_values(r.saved_rstd, {1, 0.5}, f64_tolerance);
}

TEST_CASE("eval and global-stats modes use the running statistics as constants", "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  auto p = make_problem(NC_OP_BATCH_NORM, {3, 2, 5});
  p.mode = GENERATE(NC_MODE_EVAL, NC_MODE_GLOBAL_STATS);
  auto in = random_inputs(p, 7);
  auto f = run_forward(backend, p, in);
  REQUIRE(f.status == NC_OK);
  auto b = run_backward(backend, p, in, f);
  REQUIRE(b.status == NC_OK);
  for (std::int64_t i = 0; i < in.x.count(); ++i) {
    const auto c = std::size_t((i / 5) % 2);
    const double rstd = 1 / std::sqrt(in.running_var.at(std::int64_t(c)) + p.eps);
    const double g = in.gamma.at(std::int64_t(c));
    CHECK(f.y.at(i) == Approx((in.x.at(i) - in.running_mean.at(std::int64_t(c))) * rstd * g +
                              in.beta.at(std::int64_t(c)))
                           .epsilon(f64_tolerance)
                           .margin(f64_tolerance));
    CHECK(b.dx.at(i) ==
          Approx(g * rstd * in.dy.at(i)).epsilon(f64_tolerance).margin(f64_tolerance));
  }
  CHECK(bit_identical(f.running_mean, in.running_mean));  // not updated
  CHECK(bit_identical(f.running_var, in.running_var));
}

TEST_CASE("fused residual: residual_out is rounded, normalized, and dresidual equals dx",
          "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  const auto op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  // f16: the cpu kernels widen each row once into a buffer (row_norm.cpp).
  const auto dtype = GENERATE(DType::f32, DType::bf16, DType::f16);
  auto p = make_problem(op, {5, 37}, dtype);
  p.flags |= NC_FLAG_RESIDUAL;
  auto in = random_inputs(p, 3);
  auto fused = run_forward(backend, p, in);
  REQUIRE(fused.status == NC_OK);
  for (std::int64_t i = 0; i < in.x.count(); ++i)
    REQUIRE(fused.residual_out.at(i) == numeric::round_to(dtype, in.x.at(i) + in.residual.at(i)));

  // Normalizing residual_out directly gives the same bits.
  auto plain_p = p;
  plain_p.flags &= ~unsigned(NC_FLAG_RESIDUAL);
  auto plain_in = in;
  plain_in.x = fused.residual_out;
  plain_in.residual = HostTensor();
  auto plain = run_forward(backend, plain_p, plain_in);
  REQUIRE(plain.status == NC_OK);
  CHECK(bit_identical(plain.y, fused.y));

  auto b = run_backward(backend, p, in, fused);
  REQUIRE(b.status == NC_OK);
  CHECK(bit_identical(b.dx, b.dresidual));
}

TEST_CASE("16-bit and mixed dtypes agree with the f64 computation on the same inputs",
          "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  const auto op = GENERATE(NC_OP_LAYER_NORM, NC_OP_BATCH_NORM, NC_OP_GROUP_NORM);
  struct Dtypes {
    DType data, param, stats;
  };
  const auto d = GENERATE(Dtypes{DType::bf16, DType::f32, DType::f32},
                          Dtypes{DType::f16, DType::f16, DType::f32},
                          Dtypes{DType::f32, DType::f16, DType::bf16});
  auto p = make_problem(op, {4, 8, 6}, d.data);
  set_dtypes(p, d.data, d.param, d.stats);
  if (op == NC_OP_GROUP_NORM) p.groups = 4;
  auto in = random_inputs(p, 11);
  auto low = run_forward(backend, p, in);
  REQUIRE(low.status == NC_OK);

  // The same (already rounded) inputs in f64.
  auto wide_p = p;
  set_dtypes(wide_p, DType::f64, DType::f64, DType::f64);
  Inputs wide_in;
  const auto widen = [](const HostTensor& t) {
    return t.empty() ? t : HostTensor(DType::f64, t.shape, t.values());
  };
  wide_in.x = widen(in.x);
  wide_in.gamma = widen(in.gamma);
  wide_in.beta = widen(in.beta);
  wide_in.running_mean = widen(in.running_mean);
  wide_in.running_var = widen(in.running_var);
  auto wide = run_forward(backend, wide_p, wide_in);
  REQUIRE(wide.status == NC_OK);

  // y: one rounding to the data dtype (u = 2^-8 bf16, 2^-11 f16) plus f32
  // arithmetic, relative to max(1, |y|): 2u. Saved statistics: one rounding
  // to the stats dtype: 2u of that dtype.
  const double u_data = numeric::unit_roundoff(d.data), u_stats = numeric::unit_roundoff(d.stats);
  CHECK(max_relative_error(low.y.values(), wide.y.values()) <= 2 * std::max(u_data, 0x1p-20));
  CHECK(max_relative_error(low.saved_rstd.values(), wide.saved_rstd.values()) <=
        2 * std::max(u_stats, 0x1p-20) * 8);  // rstd up to ~8 here: scale the margin
}

TEST_CASE("NaN and inf reach exactly their own statistic groups", "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  SECTION("layer norm rows") {
    auto p = make_problem(NC_OP_LAYER_NORM, {3, 40}, DType::f32);
    auto in = random_inputs(p, 5);
    in.x.set(45, std::numeric_limits<double>::quiet_NaN());  // row 1
    const auto r = run_forward(backend, p, in);
    REQUIRE(r.status == NC_OK);
    for (std::int64_t i = 0; i < 120; ++i) CHECK(std::isnan(r.y.at(i)) == (i / 40 == 1));
  }
  SECTION("batch norm channels, NHWC") {
    auto p = make_problem(NC_OP_BATCH_NORM, {2, 3, 19}, DType::f32);
    p.layout = NC_LAYOUT_NHWC;
    auto in = random_inputs(p, 5);
    in.x.set((1 * 3 + 1) * 19 + 2, std::numeric_limits<double>::infinity());  // n 1, s 1, c 2
    const auto r = run_forward(backend, p, in);
    REQUIRE(r.status == NC_OK);
    for (std::int64_t i = 0; i < in.x.count(); ++i)
      CHECK(std::isfinite(r.y.at(i)) == (i % 19 != 2));
  }
}

TEST_CASE("Conv-BN folding in closed form", "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  auto p = make_problem(NC_OP_CONV_BN_FOLD, {1, 1, 3, 3});
  p.mode = NC_MODE_EVAL;
  // Two output channels, 1x1x2 kernels; s = gamma / sqrt(var + eps) = {2, 0.5}.
  HostTensor w(DType::f64, {2, 1, 1, 2}, {1, -2, 4, 8}), bias(DType::f64, {2}, {1, 2}),
      gamma(DType::f64, {2}, {2, 1}), beta(DType::f64, {2}, {0.5, -1}),
      mean(DType::f64, {2}, {3, -2}), var(DType::f64, {2}, {0.75, 3.75}),
      fw(DType::f64, {2, 1, 1, 2}), fb(DType::f64, {2});
  nc_conv_bn_fold_args a{};
  a.weight = w.view();
  a.bias = bias.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  a.running_mean = mean.view();
  a.running_var = var.view();
  a.eps = 0.25;
  a.folded_weight = fw.view();
  a.folded_bias = fb.view();
  char message[256];
  REQUIRE(backend.conv_bn_fold(&p, &a, message, sizeof message) == NC_OK);
  require_values(fw, {2, -4, 2, 4}, 0.0);
  require_values(fb, {(1 - 3) * 2 + 0.5, (2 + 2) * 0.5 - 1}, 0.0);
}

TEST_CASE("malformed calls return statuses that name the culprit", "[conformance]") {
  const auto& backend = any_backend();
  INFO("backend " << backend.name);
  char message[256];
  auto p = make_problem(NC_OP_LAYER_NORM, {2, 8}, DType::f32);
  auto in = random_inputs(p, 1);

  CHECK(backend.forward(nullptr, nullptr, message, sizeof message) == NC_INVALID_ARGUMENT);
  CHECK(std::string(message).find("problem is NULL") != std::string::npos);
  CHECK(backend.forward(&p, nullptr, nullptr, 0) == NC_INVALID_ARGUMENT);  // no buffer: fine

  auto bad_groups = make_problem(NC_OP_GROUP_NORM, {2, 6, 4});
  bad_groups.groups = 4;
  CHECK(backend.supports(&bad_groups, message, sizeof message) == NC_INVALID_ARGUMENT);
  CHECK(std::string(message).find("groups 4") != std::string::npos);

  auto int_data = p;
  int_data.data_dtype = DLDataType{kDLInt, 8, 1};
  CHECK(backend.supports(&int_data, message, sizeof message) == NC_UNSUPPORTED);
  CHECK(backend.supports(&p, message, sizeof message) == NC_OK);

  in.x = HostTensor(DType::f16, {2, 8});
  const auto r = run_forward(backend, p, in);
  CHECK(r.status == NC_INVALID_ARGUMENT);
  CHECK(r.message.find("x: dtype f16") != std::string::npos);
}
