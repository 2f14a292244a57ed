// The cpu backend gives the same bits whatever the thread count, and a
// row's (layer/rms norm) or a sample's (group/instance norm) result does not
// depend on the batch it sits in. Tolerance: none, bit equality.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>

#include "forward_backward.hpp"
#include "normcheck/cpu/backend.hpp"
#include "normcheck/testing/backend_call.hpp"
#include "scoped_env.hpp"

using namespace normcheck;
using namespace normcheck::testing;
using normcheck::cpu::testing::run_forward_backward;
using normcheck::cpu::testing::ThreadCount;

namespace {

// A row block of one sample: rows [first, first + count) of a tensor whose
// leading dim is the batch.
HostTensor rows_of(const HostTensor& t, std::int64_t first, std::int64_t count) {
  HostTensor out = t;
  const std::int64_t row_bytes = std::int64_t(t.bytes.size()) / t.shape[0];
  out.shape[0] = count;
  out.bytes.assign(t.bytes.begin() + first * row_bytes,
                   t.bytes.begin() + (first + count) * row_bytes);
  return out;
}

}  // namespace

TEST_CASE("cpu results are bit-identical for any thread count", "[determinism]") {
  struct Case {
    const char* name;
    nc_op op;
    std::vector<std::int64_t> shape;
    nc_layout layout;
    std::int64_t groups;
  };
  // Large enough (>= 4 * 64K elements) that up to 4 threads really run.
  const Case c = GENERATE(values<Case>({
      {"ln", NC_OP_LAYER_NORM, {300, 1000}, NC_LAYOUT_NCHW, 1},
      {"rms", NC_OP_RMS_NORM, {300, 1000}, NC_LAYOUT_NCHW, 1},
      {"bn nchw", NC_OP_BATCH_NORM, {8, 33, 1000}, NC_LAYOUT_NCHW, 1},
      // Three chunks of 700 rows per sample (channel_norm.cpp).
      {"bn nhwc", NC_OP_BATCH_NORM, {4, 2100, 35}, NC_LAYOUT_NHWC, 1},
      {"gn nhwc", NC_OP_GROUP_NORM, {8, 1000, 36}, NC_LAYOUT_NHWC, 6},
      {"in nchw", NC_OP_INSTANCE_NORM, {8, 36, 1000}, NC_LAYOUT_NCHW, 1},
      // group and instance norm forwards take a sample's statistics and
      // normalize it in one task where the batch has two samples per
      // thread (channel_norm.cpp, fuse_samples), else in two passes over
      // the tensor: 5 samples take the first with 1 or 2 threads, the
      // second with 3 or 4, and the bits must not change.
      {"gn nchw, fused up to 2 threads", NC_OP_GROUP_NORM, {5, 16, 4000}, NC_LAYOUT_NCHW, 4},
      {"in nhwc, fused up to 2 threads", NC_OP_INSTANCE_NORM, {5, 4000, 16}, NC_LAYOUT_NHWC, 1},
  }));
  // f16 rows go through a widened copy (row_norm.cpp), bf16 through pairs.
  const auto dtype = GENERATE(DType::f32, DType::bf16, DType::f16);
  INFO(c.name << " " << numeric::dtype_name(dtype));
  auto p = make_problem(c.op, c.shape, dtype);
  p.layout = c.layout;
  p.groups = c.groups;
  const auto in = random_inputs(p, 77);
  const auto reference = [&] {
    ThreadCount one("1");
    return run_forward_backward(p, in);
  }();
  for (const char* threads : {"2", "3", "4"}) {
    ThreadCount n(threads);
    INFO("threads " << threads);
    const auto o = run_forward_backward(p, in);
    CHECK(bit_identical(o.f.y, reference.f.y));
    CHECK(bit_identical(o.f.saved_rstd, reference.f.saved_rstd));
    CHECK(bit_identical(o.f.running_var, reference.f.running_var));
    CHECK(bit_identical(o.b.dx, reference.b.dx));
    CHECK(bit_identical(o.b.dgamma, reference.b.dgamma));
    CHECK(bit_identical(o.b.dbeta, reference.b.dbeta));
  }
}

TEST_CASE("a row's or sample's result does not depend on its batch", "[determinism]") {
  struct Case {
    const char* name;
    nc_op op;
    std::vector<std::int64_t> shape;  // batch first
    nc_layout layout;
    std::int64_t groups;
  };
  const Case c = GENERATE(values<Case>({
      {"ln", NC_OP_LAYER_NORM, {150, 777}, NC_LAYOUT_NCHW, 1},
      // f32 outputs of >= 16 MiB (forward: x and y, a 32 MiB working set;
      // should_stream) with 16-byte aligned rows/planes take the
      // streaming-store path; their small batches do not.
      {"ln streamed", NC_OP_LAYER_NORM, {5600, 768}, NC_LAYOUT_NCHW, 1},
      {"in nchw streamed", NC_OP_INSTANCE_NORM, {10, 32, 14000}, NC_LAYOUT_NCHW, 1},
      {"rms", NC_OP_RMS_NORM, {150, 777}, NC_LAYOUT_NCHW, 1},
      // f32 rows too long for two to fit in half of L1 are normalized four
      // side by side (rows_in_lockstep, the 64-byte builds: on AVX-512
      // machines) in a big batch and one by one in the batch of three;
      // 4100 columns leave a vector and a scalar tail.
      {"ln long rows", NC_OP_LAYER_NORM, {40, 4100}, NC_LAYOUT_NCHW, 1},
      {"rms long rows", NC_OP_RMS_NORM, {40, 4100}, NC_LAYOUT_NCHW, 1},
      // f32 rows of 16 KiB fetch the next row half during each pass
      // (splits_ahead; the forward only for whole blocks, as 4096 columns
      // are): every row but a batch's last one.
      {"ln split fetch", NC_OP_LAYER_NORM, {40, 4096}, NC_LAYOUT_NCHW, 1},
      {"rms split fetch", NC_OP_RMS_NORM, {40, 4096}, NC_LAYOUT_NCHW, 1},
      {"gn nchw", NC_OP_GROUP_NORM, {12, 8, 999}, NC_LAYOUT_NCHW, 4},
      {"gn nhwc", NC_OP_GROUP_NORM, {12, 999, 8}, NC_LAYOUT_NHWC, 2},
      {"in nhwc", NC_OP_INSTANCE_NORM, {12, 999, 40}, NC_LAYOUT_NHWC, 1},
      {"gn nhwc wide", NC_OP_GROUP_NORM, {12, 99, 96}, NC_LAYOUT_NHWC, 3},
  }));
  // bf16: the NHWC kernels walk channels in pairs (see each_storage_channel).
  const auto dtype = GENERATE(DType::f32, DType::f16, DType::bf16);
  INFO(c.name << " " << numeric::dtype_name(dtype));
  auto big = make_problem(c.op, c.shape, dtype);
  big.layout = c.layout;
  big.groups = c.groups;
  const auto in = random_inputs(big, 5);
  const auto whole = run_forward_backward(big, in);

  // Rows/samples [first, first + count) as a batch of their own, at a
  // different position and alignment than in the big batch.
  const std::int64_t first = GENERATE(1, 7), count = 3;
  REQUIRE(first + count <= c.shape[0]);
  auto small = big;
  small.shape[0] = count;
  Inputs part = in;
  part.x = rows_of(in.x, first, count);
  part.dy = rows_of(in.dy, first, count);
  const auto alone = run_forward_backward(small, part);
  CHECK(bit_identical(alone.f.y, rows_of(whole.f.y, first, count)));
  CHECK(bit_identical(alone.b.dx, rows_of(whole.b.dx, first, count)));
}

TEST_CASE("a malformed NORMCHECK_CPU_THREADS is an invalid argument", "[determinism]") {
  ThreadCount bad("lots");
  const auto p = make_problem(NC_OP_LAYER_NORM, {512, 512}, DType::f32);
  const auto r = run_forward(cpu::backend_table(), p, random_inputs(p, 1));
  CHECK(r.status == NC_INVALID_ARGUMENT);
  CHECK(r.message.find("NORMCHECK_CPU_THREADS") != std::string::npos);
}

TEST_CASE("a malformed NORMCHECK_CPU_ISA is an invalid argument", "[determinism]") {
  const cpu::testing::ScopedEnv bad("NORMCHECK_CPU_ISA", "avx9000");
  const auto p = make_problem(NC_OP_RMS_NORM, {16, 64}, DType::bf16);
  const auto r = run_forward(cpu::backend_table(), p, random_inputs(p, 1));
  CHECK(r.status == NC_INVALID_ARGUMENT);
  CHECK(r.message.find("NORMCHECK_CPU_ISA") != std::string::npos);
  CHECK(r.message.find("avx9000") != std::string::npos);
}

TEST_CASE("NORMCHECK_CPU_ISA=portable runs on every CPU", "[determinism]") {
  const cpu::testing::ScopedEnv portable("NORMCHECK_CPU_ISA", "portable");
  const auto p = make_problem(NC_OP_LAYER_NORM, {16, 64}, DType::bf16);
  const auto r = run_forward(cpu::backend_table(), p, random_inputs(p, 1));
  CHECK(r.status == NC_OK);
}

TEST_CASE("bf16 rows give the same bits whether gamma and beta are read as bf16 or as f32",
          "[determinism]") {
  // bf16 data with f32 parameters that are all bf16 values: the forward
  // reads them packed as bf16 (row_norm.cpp, packed_params). One gamma
  // that is no bf16 (column 5) makes it read the f32 arrays for the whole
  // call; every other column must keep its bits. Tolerance: none.
  const auto op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  const std::int64_t cols = GENERATE(64, 100, 4096);
  auto p = make_problem(op, {70, cols}, DType::bf16);
  set_dtypes(p, DType::bf16, DType::f32, DType::f32);
  auto in = random_inputs(p, 41);
  for (std::int64_t c = 0; c < cols; ++c) {
    in.gamma.set(c, double(numeric::round_to(DType::bf16, in.gamma.at(c))));
    in.beta.set(c, double(numeric::round_to(DType::bf16, in.beta.at(c))));
  }
  const auto packed = run_forward(cpu::backend_table(), p, in);
  REQUIRE(packed.status == NC_OK);
  auto unpacked_in = in;
  unpacked_in.gamma.set(5, in.gamma.at(5) + 0x1p-20);  // f32, not bf16
  const auto unpacked = run_forward(cpu::backend_table(), p, unpacked_in);
  REQUIRE(unpacked.status == NC_OK);
  CHECK(bit_identical(packed.saved_rstd, unpacked.saved_rstd));
  std::int64_t differing = 0;
  for (std::int64_t i = 0; i < packed.y.count(); ++i) {
    if (i % cols == 5) continue;
    const auto size = packed.y.bytes.size() / std::size_t(packed.y.count());
    if (std::memcmp(packed.y.bytes.data() + std::size_t(i) * size,
                    unpacked.y.bytes.data() + std::size_t(i) * size, size) != 0)
      ++differing;
  }
  CHECK(differing == 0);
}
