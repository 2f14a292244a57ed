// Every build of the kernels (kernel_isa.hpp) gives the portable build's
// bits: forward (y, residual_out, saved and running statistics) and
// backward (dx, dresidual, dgamma, dbeta) of layer and rms norm, and of
// batch, group and instance norm in both layouts and all modes, in every
// dtype, on row lengths and channel counts that end each loop in each of
// its tails, with NaN and inf values, and with results in the subnormal
// range, where vcvtne2ps2bf16 alone would give zero (wide.hpp). Tolerance:
// none, bit equality (a NaN matches any NaN, see same_bits_or_both_nan);
// the builds differ in instructions only, never in arithmetic.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "forward_backward.hpp"
#include "isa_builds.hpp"
#include "normcheck/cpu/backend.hpp"
#include "normcheck/testing/backend_call.hpp"
#include "scoped_env.hpp"

using namespace normcheck;
using namespace normcheck::testing;
using normcheck::cpu::testing::ScopedEnv;

namespace {

using cpu::testing::Outputs;

Outputs run_with(const char* isa, const nc_problem& p, const Inputs& in) {
  const ScopedEnv setting("NORMCHECK_CPU_ISA", isa);
  return cpu::testing::run_forward_backward(p, in);
}

// Random inputs with the values that take the rare paths: a NaN in row 1,
// an inf in row 2, gamma 1e-39 (subnormal in f32 and bf16, 0 in f16) in
// every fifth column and beta 3e-39 in every seventh, so some y are
// subnormal, and row 3's dy scaled by 1e-39, so some dx and dgamma are.
Inputs special_inputs(const nc_problem& p, std::int64_t rows, std::int64_t cols) {
  auto in = random_inputs(p, 11);
  if (rows > 1) in.x.set(1 * cols + cols / 2, std::numeric_limits<double>::quiet_NaN());
  if (rows > 2) in.x.set(2 * cols, std::numeric_limits<double>::infinity());
  for (std::int64_t c = 0; c < cols; ++c) {
    if (c % 5 == 3) in.gamma.set(c, 1e-39);
    if (c % 7 == 2) in.beta.set(c, 3e-39);
  }
  if (rows > 3)
    for (std::int64_t c = 0; c < cols; ++c) in.dy.set(3 * cols + c, in.dy.at(3 * cols + c) * 1e-39);
  return in;
}

// The same bits in every element, except that a NaN matches any NaN: IEEE
// 754 leaves the sign and payload of a NaN result unspecified, and x86
// returns the first operand's NaN when both are NaN, whichever order the
// compiler chose for a commutative operation in each build (seen: dx of an
// instance-norm plane holding inf, -nan in one build, nan in the other).
bool same_bits_or_both_nan(const HostTensor& a, const HostTensor& b) {
  if (a.bytes.size() != b.bytes.size() || a.dtype != b.dtype) return false;
  if (a.bytes.empty()) return true;
  const std::size_t size = a.bytes.size() / std::size_t(a.count());
  for (std::int64_t i = 0; i < a.count(); ++i) {
    const auto at = std::size_t(i) * size;
    if (std::memcmp(a.bytes.data() + at, b.bytes.data() + at, size) == 0) continue;
    if (!(std::isnan(a.at(i)) && std::isnan(b.at(i)))) return false;
  }
  return true;
}

void check_identical(const Outputs& o, const Outputs& ref) {
  CHECK(same_bits_or_both_nan(o.f.y, ref.f.y));
  CHECK(same_bits_or_both_nan(o.f.running_mean, ref.f.running_mean));
  CHECK(same_bits_or_both_nan(o.f.running_var, ref.f.running_var));
  CHECK(same_bits_or_both_nan(o.f.residual_out, ref.f.residual_out));
  CHECK(same_bits_or_both_nan(o.f.saved_mean, ref.f.saved_mean));
  CHECK(same_bits_or_both_nan(o.f.saved_rstd, ref.f.saved_rstd));
  CHECK(same_bits_or_both_nan(o.b.dx, ref.b.dx));
  CHECK(same_bits_or_both_nan(o.b.dresidual, ref.b.dresidual));
  CHECK(same_bits_or_both_nan(o.b.dgamma, ref.b.dgamma));
  CHECK(same_bits_or_both_nan(o.b.dbeta, ref.b.dbeta));
}

// Every build this CPU runs against the portable one on p and in.
void compare_builds(const nc_problem& p, const Inputs& in) {
  const auto builds = cpu::testing::isa_builds();
  REQUIRE_FALSE(builds.compared.empty());  // the runner skips the program otherwise
  const auto reference = run_with("portable", p, in);
  for (const auto& isa : builds.compared) {
    INFO("NORMCHECK_CPU_ISA=" << isa);
    check_identical(run_with(isa.c_str(), p, in), reference);
  }
}

}  // namespace

TEST_CASE("every build of the row kernels gives the portable build's bits", "[isa]") {
  const auto op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  const auto dtype = GENERATE(DType::bf16, DType::f32, DType::f16, DType::f64);
  // Pairs of 32 bf16, vectors of 16, and scalar tails, alone and together.
  const std::int64_t cols = GENERATE(1, 15, 16, 17, 31, 32, 33, 48, 63, 100, 768, 1000, 4099);
  const bool residual = GENERATE(false, true);
  const std::int64_t rows = 9;
  INFO(numeric::dtype_name(dtype) << " " << (op == NC_OP_LAYER_NORM ? "ln" : "rms") << " " << rows
                                  << "x" << cols << (residual ? " residual" : ""));
  auto p = make_problem(op, {rows, cols}, dtype);
  if (residual) p.flags |= NC_FLAG_RESIDUAL;
  const auto in = special_inputs(p, rows, cols);
  compare_builds(p, in);
}

TEST_CASE("the builds agree where outputs are streamed, at every row alignment", "[isa]") {
  // >= 16 MiB of forward output streams (x and y: a 32 MiB working set,
  // should_stream); rows of 4104 bf16 (8208 bytes) start at every residue
  // mod 64, so the 64-byte streaming store and the 16-byte ones both run.
  // 4104 f32 columns go four rows in lockstep in the 64-byte builds and
  // one by one in the portable build (kLockstep). Shorter rows (two fit in
  // half of L1) take the carried one-row path, whose f32 stores are
  // wput_line's: 1028 f32 columns (4112 bytes) and 1032 bf16 (2064) start
  // at every residue mod 64 too.
  const auto dtype = GENERATE(DType::bf16, DType::f32);
  const auto op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  const bool short_rows = GENERATE(false, true);
  const std::int64_t rows = short_rows ? 8200 : 2100;
  const std::int64_t cols = !short_rows ? 4104 : dtype == DType::f32 ? 1028 : 1032;
  INFO(numeric::dtype_name(dtype) << " " << (op == NC_OP_LAYER_NORM ? "ln" : "rms") << " " << rows
                                  << "x" << cols);
  const auto p = make_problem(op, {rows, cols}, dtype);
  const auto in = special_inputs(p, rows, cols);
  compare_builds(p, in);
}

TEST_CASE("every build of the channel kernels gives the portable build's bits", "[isa]") {
  struct Case {
    const char* name;
    nc_op op;
    std::vector<std::int64_t> shape;  // NCHW: N, C, HW; NHWC: N, HW, C
    nc_layout layout;
    std::int64_t groups;
  };
  // Channel counts: tiles of 32 alone, with 16- and 1-channel tails;
  // planes of 1000 (vectors and a tail) and 64 (whole pairs).
  const Case c = GENERATE(values<Case>({
      {"bn nchw", NC_OP_BATCH_NORM, {4, 7, 1000}, NC_LAYOUT_NCHW, 1},
      {"bn nchw pairs", NC_OP_BATCH_NORM, {3, 5, 64}, NC_LAYOUT_NCHW, 1},
      {"bn nhwc", NC_OP_BATCH_NORM, {4, 300, 64}, NC_LAYOUT_NHWC, 1},
      {"bn nhwc tails", NC_OP_BATCH_NORM, {3, 290, 49}, NC_LAYOUT_NHWC, 1},
      {"gn nhwc", NC_OP_GROUP_NORM, {4, 300, 96}, NC_LAYOUT_NHWC, 6},
      {"gn nchw", NC_OP_GROUP_NORM, {4, 8, 999}, NC_LAYOUT_NCHW, 4},
      {"in nhwc", NC_OP_INSTANCE_NORM, {3, 333, 40}, NC_LAYOUT_NHWC, 1},
      {"in nchw", NC_OP_INSTANCE_NORM, {3, 6, 777}, NC_LAYOUT_NCHW, 1},
  }));
  const auto dtype = GENERATE(DType::bf16, DType::f32, DType::f16, DType::f64);
  // Eval: constant statistics, dx without the x term.
  const auto mode = GENERATE(NC_MODE_TRAIN, NC_MODE_EVAL);
  INFO(c.name << " " << numeric::dtype_name(dtype) << (mode == NC_MODE_EVAL ? " eval" : ""));
  auto p = make_problem(c.op, c.shape, dtype);
  p.layout = c.layout;
  p.groups = c.groups;
  if (mode == NC_MODE_EVAL) {
    if (c.op != NC_OP_BATCH_NORM) return;  // eval is batch norm's (running statistics)
    p.mode = NC_MODE_EVAL;
  }
  auto in = random_inputs(p, 29);
  const std::int64_t count = in.x.count(), channels = in.gamma.count();
  in.x.set(count / 3, std::numeric_limits<double>::quiet_NaN());
  in.x.set(count / 2 + 1, std::numeric_limits<double>::infinity());
  for (std::int64_t k = 0; k < channels; ++k) {
    if (k % 5 == 3) in.gamma.set(k, 1e-39);
    if (k % 7 == 2) in.beta.set(k, 3e-39);
  }
  for (std::int64_t i = 0; i < count; i += 3) in.dy.set(i, in.dy.at(i) * 1e-39);
  compare_builds(p, in);
}
