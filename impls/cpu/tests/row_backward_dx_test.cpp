// The bf16 and f16 row backwards' dx, bit for bit, against their formula evaluated
// here in f32 scalars, on inputs whose sums are exact: x and dy small
// integers, gamma in half steps, the saved mean in quarter steps, so every
// g = gamma * dy, d = x - mean and g * d is a multiple of 1/8 below 2^21
// and sum(g), sum(g * d) come out exact in any order of addition. What is
// left is the per-element arithmetic, whose order the kernel fixes:
//   c0 = -rstd * sum(g) / n (layer norm; rms: 0), c1 = -rstd^3 * sum(g d) / n
//   (in double, rounded to f32), dx = round((rstd * g + c0) + d * c1).
// bf16 rows of 768, 1000 (a 8-value tail) and 1024 columns take the path
// that keeps g and d from the first pass (row_norm.cpp, kKeepTerms), 4096
// the one that recomputes them; f16 keeps them in the portable build
// whatever the length. Each must give the formula's values and signs.
// Tolerance: none. An f32-level change of association shows in a 16-bit
// result only where it
// crosses a rounding boundary, so this pins what each path computes (a
// kept d read one column off fails every case that keeps); that the two
// paths give the same bits rests on their identical operations and on the
// whole nightly run with builds before and after (reports/perf.md, issue
// 17, session 25).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "normcheck/cpu/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::testing;

namespace {

// A deterministic small integer in [-span, span] for element i.
double small_integer(std::int64_t i, std::int64_t salt, std::int64_t span) {
  const std::uint64_t h = (std::uint64_t(i) * 0x9E3779B97F4A7C15ull) ^ (std::uint64_t(salt) << 40);
  return double(std::int64_t((h >> 33) % std::uint64_t(2 * span + 1)) - span);
}

}  // namespace

TEST_CASE("bf16 and f16 row backward dx equals its formula bit for bit where the sums are exact",
          "[backward]") {
  const auto op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  const auto dtype = GENERATE(DType::bf16, DType::f16);
  const std::int64_t cols = GENERATE(768, 1000, 1024, 4096);
  const std::int64_t rows = 6;
  const bool rms = op == NC_OP_RMS_NORM;
  INFO((rms ? "rms " : "ln ") << numeric::dtype_name(dtype) << " " << rows << "x" << cols);
  const auto p = make_problem(op, {rows, cols}, dtype);
  auto in = random_inputs(p, 5);
  for (std::int64_t i = 0; i < rows * cols; ++i) {
    in.x.set(i, small_integer(i, 1, 8));
    in.dy.set(i, small_integer(i, 2, 4));
  }
  for (std::int64_t c = 0; c < cols; ++c) in.gamma.set(c, 0.5 * double(1 + c % 4));
  auto fwd = run_forward(cpu::backend_table(), p, in);
  REQUIRE(fwd.status == NC_OK);
  // Saved statistics of our choosing, f32 (the stats dtype of 16-bit data).
  for (std::int64_t r = 0; r < rows; ++r) {
    if (!rms) fwd.saved_mean.set(r, 0.25 * double(r) - 0.5);
    fwd.saved_rstd.set(r, 0.7 + 0.01 * double(r));
  }
  const auto b = run_backward(cpu::backend_table(), p, in, fwd);
  REQUIRE(b.status == NC_OK);

  std::int64_t mismatched = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const float mean = rms ? 0.0f : float(fwd.saved_mean.at(r));
    const float rstd = float(fwd.saved_rstd.at(r));
    float sum_g = 0.0f, sum_gd = 0.0f;  // exact: see the file's comment
    for (std::int64_t c = 0; c < cols; ++c) {
      const float g = float(in.gamma.at(c)) * float(in.dy.at(r * cols + c));
      sum_g += g;
      sum_gd += g * (float(in.x.at(r * cols + c)) - mean);
    }
    const double rs = double(rstd), n = double(cols);
    const float c0 = rms ? 0.0f : float(-rs * double(sum_g) / n);
    const float c1 = float(-rs * rs * rs * double(sum_gd) / n);
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::int64_t i = r * cols + c;
      const float g = float(in.gamma.at(c)) * float(in.dy.at(i));
      const float d = float(in.x.at(i)) - mean;
      const float first = rstd * g + c0;
      const float second = d * c1;
      const double expected = numeric::round_to(dtype, double(first + second));
      const double got = b.dx.at(i);
      if (got != expected || std::signbit(got) != std::signbit(expected)) {
        if (mismatched == 0)
          UNSCOPED_INFO("first mismatch at " << i << ": " << got << " vs " << expected);
        ++mismatched;
      }
    }
  }
  CHECK(mismatched == 0);
}
