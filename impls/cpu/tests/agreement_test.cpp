// The cpu backend against the naive one where naive is trustworthy (f64,
// inputs of unit scale, no offset), and against f64 where naive is not.
#include <catch2/catch.hpp>

#include "normcheck/cpu/backend.hpp"
#include "normcheck/naive/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::testing;

namespace {

struct Case {
  const char* name;
  nc_op op;
  std::vector<std::int64_t> shape;
  nc_layout layout = NC_LAYOUT_NCHW;
  nc_mode mode = NC_MODE_TRAIN;
  std::int64_t groups = 1;
  bool track = false;
};

nc_problem problem_of(const Case& c, DType dtype) {
  auto p = make_problem(c.op, c.shape, dtype);
  p.layout = c.layout;
  p.mode = c.mode;
  p.groups = c.groups;
  if (c.track) p.flags |= NC_FLAG_TRACK_RUNNING_STATS;
  return p;
}

}  // namespace

TEST_CASE("cpu agrees with naive on well-conditioned f64 problems", "[agreement]") {
  // Different summation orders of O(1) values, a few hundred terms: both
  // err by ~1e-15; 1e-12 relative to max(1, |value|) leaves ample room.
  const Case c = GENERATE(values<Case>({
      {"bn nchw", NC_OP_BATCH_NORM, {4, 5, 67}},
      {"bn nhwc", NC_OP_BATCH_NORM, {3, 9, 7, 19}, NC_LAYOUT_NHWC},
      {"bn nhwc eval", NC_OP_BATCH_NORM, {3, 70, 21}, NC_LAYOUT_NHWC, NC_MODE_EVAL},
      {"bn rank 5 global", NC_OP_BATCH_NORM, {2, 3, 4, 5, 6}, NC_LAYOUT_NCHW, NC_MODE_GLOBAL_STATS},
      {"in nchw tracked", NC_OP_INSTANCE_NORM, {3, 5, 33}, NC_LAYOUT_NCHW, NC_MODE_TRAIN, 1, true},
      {"in nhwc", NC_OP_INSTANCE_NORM, {2, 40, 17}, NC_LAYOUT_NHWC},
      {"gn nchw", NC_OP_GROUP_NORM, {3, 12, 5, 5}, NC_LAYOUT_NCHW, NC_MODE_TRAIN, 4},
      {"gn nhwc", NC_OP_GROUP_NORM, {2, 6, 6, 20}, NC_LAYOUT_NHWC, NC_MODE_TRAIN, 5},
      {"ln", NC_OP_LAYER_NORM, {9, 301}},
      {"rms", NC_OP_RMS_NORM, {9, 130}},
      {"bn rank 2", NC_OP_BATCH_NORM, {37, 3}},
  }));
  INFO(c.name);
  const auto p = problem_of(c, DType::f64);
  const auto in = random_inputs(p, 2024);
  auto fc = run_forward(cpu::backend_table(), p, in);
  auto fn = run_forward(naive::backend_table(), p, in);
  REQUIRE(fc.status == NC_OK);
  REQUIRE(fn.status == NC_OK);
  constexpr double tolerance = 1e-12;
  CHECK(max_relative_error(fc.y.values(), fn.y.values()) < tolerance);
  CHECK(max_relative_error(fc.saved_rstd.values(), fn.saved_rstd.values()) < tolerance);
  CHECK(max_relative_error(fc.saved_mean.values(), fn.saved_mean.values()) < tolerance);
  CHECK(max_relative_error(fc.running_mean.values(), fn.running_mean.values()) < tolerance);
  CHECK(max_relative_error(fc.running_var.values(), fn.running_var.values()) < tolerance);
  const auto bc = run_backward(cpu::backend_table(), p, in, fc);
  const auto bn = run_backward(naive::backend_table(), p, in, fn);
  REQUIRE(bc.status == NC_OK);
  REQUIRE(bn.status == NC_OK);
  CHECK(max_relative_error(bc.dx.values(), bn.dx.values()) < tolerance);
  CHECK(max_relative_error(bc.dgamma.values(), bn.dgamma.values()) < tolerance);
  CHECK(max_relative_error(bc.dbeta.values(), bn.dbeta.values()) < tolerance);
}

TEST_CASE("cpu stays accurate in f32 where the naive formulas cancel", "[agreement]") {
  // Rows of mean 1e4 and spread 1: E[x^2] - E[x]^2 in f32 loses all digits
  // (1e8 * 2^-24 ~ 6 > the variance ~0.33). The two-pass cpu kernels lose
  // only the rounding of x itself: relative error in y ~ kappa * u with
  // kappa = max|x| / sigma ~ 2e4, i.e. ~1e-3; we allow 1e-2. The f64
  // forward of the same f32 inputs is the oracle.
  // Channels-last: 600 rows of 40 channels are three chunks of blocks, a
  // register tile of 32 channels and 8 more (channel_norm.cpp).
  struct Shape {
    std::vector<std::int64_t> dims;
    nc_layout layout;
  };
  const auto op = GENERATE(NC_OP_LAYER_NORM, NC_OP_BATCH_NORM, NC_OP_GROUP_NORM);
  const auto shape =
      GENERATE(values<Shape>({{{4, 8, 64}, NC_LAYOUT_NCHW}, {{2, 600, 40}, NC_LAYOUT_NHWC}}));
  if (op == NC_OP_LAYER_NORM && shape.layout == NC_LAYOUT_NHWC) return;
  auto p = make_problem(op, shape.dims, DType::f32);
  p.layout = shape.layout;
  if (op == NC_OP_GROUP_NORM) p.groups = 2;
  const auto in = random_inputs(p, 9, 1e4, 1.0);
  auto wide_p = p;
  set_dtypes(wide_p, DType::f64, DType::f64, DType::f64);
  Inputs wide_in = in;
  for (HostTensor Inputs::*t : {&Inputs::x, &Inputs::gamma, &Inputs::beta, &Inputs::running_mean,
                                &Inputs::running_var, &Inputs::dy})
    if (!(wide_in.*t).empty()) wide_in.*t = HostTensor(DType::f64, (in.*t).shape, (in.*t).values());
  const auto exact = run_forward(naive::backend_table(), wide_p, wide_in);
  const auto robust = run_forward(cpu::backend_table(), p, in);
  REQUIRE(exact.status == NC_OK);
  REQUIRE(robust.status == NC_OK);
  CHECK(max_relative_error(robust.y.values(), exact.y.values()) < 1e-2);
}

TEST_CASE("cpu bf16 and f16 channels-last norms agree with f64 on the same inputs", "[agreement]") {
  // bf16 NHWC rows are walked in blocks of 32 channels as even/odd pairs
  // (register tiles in the reductions), with per-channel arrays in pair
  // order; 83 channels = two pair blocks, a vector and a scalar tail, 96 =
  // three blocks; 600 rows = three chunks. A channel mixed up errs by
  // O(1). Inputs are bf16 values, so the f64 oracle sees the same numbers;
  // cpu rounds its outputs to bf16 (2^-9 relative) after f32 arithmetic:
  // 2e-2 relative to max(1, |value|) leaves room for a few such roundings.
  const Case c = GENERATE(values<Case>({
      {"bn nhwc", NC_OP_BATCH_NORM, {3, 5, 7, 83}, NC_LAYOUT_NHWC},
      {"bn nhwc, three chunks of rows", NC_OP_BATCH_NORM, {2, 600, 83}, NC_LAYOUT_NHWC},
      {"bn nhwc eval", NC_OP_BATCH_NORM, {3, 70, 83}, NC_LAYOUT_NHWC, NC_MODE_EVAL},
      {"gn nhwc", NC_OP_GROUP_NORM, {2, 6, 6, 96}, NC_LAYOUT_NHWC, NC_MODE_TRAIN, 6},
      {"in nhwc", NC_OP_INSTANCE_NORM, {2, 40, 83}, NC_LAYOUT_NHWC},
  }));
  // f16 walks the channels 16 at a time with per-channel arrays (no tiles).
  const auto dtype = GENERATE(DType::bf16, DType::f16);
  INFO(c.name << " " << numeric::dtype_name(dtype));
  const auto p = problem_of(c, dtype);
  const auto in = random_inputs(p, 31);
  auto wide_p = p;
  set_dtypes(wide_p, DType::f64, DType::f64, DType::f64);
  Inputs wide_in = in;
  for (HostTensor Inputs::*t : {&Inputs::x, &Inputs::gamma, &Inputs::beta, &Inputs::running_mean,
                                &Inputs::running_var, &Inputs::dy})
    if (!(wide_in.*t).empty()) wide_in.*t = HostTensor(DType::f64, (in.*t).shape, (in.*t).values());
  auto fc = run_forward(cpu::backend_table(), p, in);
  auto fw = run_forward(naive::backend_table(), wide_p, wide_in);
  REQUIRE(fc.status == NC_OK);
  REQUIRE(fw.status == NC_OK);
  constexpr double tolerance = 2e-2;
  CHECK(max_relative_error(fc.y.values(), fw.y.values()) < tolerance);
  CHECK(max_relative_error(fc.saved_mean.values(), fw.saved_mean.values()) < tolerance);
  CHECK(max_relative_error(fc.saved_rstd.values(), fw.saved_rstd.values()) < tolerance);
  const auto bc = run_backward(cpu::backend_table(), p, in, fc);
  const auto bw = run_backward(naive::backend_table(), wide_p, wide_in, fw);
  REQUIRE(bc.status == NC_OK);
  REQUIRE(bw.status == NC_OK);
  CHECK(max_relative_error(bc.dx.values(), bw.dx.values()) < tolerance);
  CHECK(max_relative_error(bc.dgamma.values(), bw.dgamma.values()) < tolerance);
  CHECK(max_relative_error(bc.dbeta.values(), bw.dbeta.values()) < tolerance);
}
