// Eval-mode (running statistics) batch-norm backward of the cpu backend on
// non-finite inputs: the statistics are constants, so dx = dy * gamma * rstd
// does not depend on x, and a NaN or inf in x must not reach dx.
#include <catch2/catch.hpp>

#include <cmath>

#include "normcheck/cpu/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::testing;

namespace {

// dx is a * dy in the compute type (a = gamma * rstd rounded to it), then
// rounded to the data dtype: about two roundings of the data dtype.
double tolerance_of(DType t) {
  switch (t) {
    case DType::f64:
      return 1e-15;
    case DType::f32:
      return 1e-6;
    case DType::f16:
      return 2e-3;
    case DType::bf16:
      return 1e-2;
  }
  return 0.0;
}

}  // namespace

TEST_CASE("cpu eval batch norm backward: dx = dy * gamma * rstd, finite where x is not",
          "[nonfinite]") {
  struct Case {
    const char* name;
    nc_layout layout;
    std::vector<std::int64_t> shape;
    std::int64_t channel_stride;  // element i is in channel (i / stride) % C
    std::int64_t channels;
  };
  // Planes of 40 and rows of 35 channels: every vector path (bf16 pairs,
  // full vectors) and the scalar tails.
  const Case c = GENERATE(values<Case>({
      {"nchw", NC_LAYOUT_NCHW, {2, 3, 40}, 40, 3},
      {"nhwc", NC_LAYOUT_NHWC, {2, 40, 35}, 1, 35},
  }));
  const auto dtype = GENERATE(DType::f64, DType::f32, DType::f16, DType::bf16);
  INFO(c.name << " " << numeric::dtype_name(dtype));
  auto p = make_problem(NC_OP_BATCH_NORM, c.shape, dtype);
  p.layout = c.layout;
  p.mode = NC_MODE_EVAL;
  auto in = random_inputs(p, 23);
  const std::int64_t count = in.x.count();
  // In the vector bodies and in the tails of both layouts.
  for (const std::int64_t i : {std::int64_t(0), std::int64_t(5), std::int64_t(38),
                               std::int64_t(69), count - 1})
    in.x.set(i, std::nan(""));
  in.x.set(17, INFINITY);
  in.x.set(count - 2, -INFINITY);
  auto fwd = run_forward(cpu::backend_table(), p, in);
  REQUIRE(fwd.status == NC_OK);
  const auto bwd = run_backward(cpu::backend_table(), p, in, fwd);
  REQUIRE(bwd.status == NC_OK);
  const auto dx = bwd.dx.values(), dy = in.dy.values(), gamma = in.gamma.values(),
             var = in.running_var.values();
  const double tolerance = tolerance_of(dtype);
  for (std::int64_t i = 0; i < count; ++i) {
    const auto ch = std::size_t((i / c.channel_stride) % c.channels);
    const double expected = dy[std::size_t(i)] * gamma[ch] / std::sqrt(var[ch] + p.eps);
    INFO("element " << i);
    REQUIRE(std::isfinite(dx[std::size_t(i)]));
    CHECK(dx[std::size_t(i)] == Approx(expected).epsilon(tolerance).margin(tolerance));
  }
}
