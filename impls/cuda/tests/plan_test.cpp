// The launch decisions that determinism and batch invariance rest on, and
// what the planner declines. Pure host code: no tolerance, every check is
// exact.
#include <catch2/catch.hpp>

#include <set>
#include <variant>

#include "normcheck/cuda/plan.hpp"
#include "normcheck/support/status.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck::cuda;
using normcheck::testing::make_problem;
using normcheck::testing::set_dtypes;

TEST_CASE("row configs: cached rows fit the block exactly, within the thread limit",
          "[cuda][plan]") {
  const auto dtype = GENERATE(DType::f32, DType::f16, DType::bf16, DType::f64);
  const bool backward = GENERATE(false, true);
  for (std::int64_t hidden = 1; hidden <= 70000; hidden += (hidden < 2048 ? 1 : 127)) {
    const RowConfig c = backward ? row_backward_config(hidden, dtype, true)
                                 : row_forward_config(hidden, dtype, true);
    INFO("hidden " << hidden << " backward " << backward);
    REQUIRE(c.threads % 32 == 0);
    REQUIRE(c.threads >= 32);
    REQUIRE(c.threads <= 512);
    if (!c.cached) continue;
    const std::int64_t vectors = hidden / c.vec;
    REQUIRE(hidden % c.vec == 0);
    REQUIRE(c.vec * int(normcheck::numeric::dtype_size(dtype)) == 16);
    // Every vector has a slot, and no warp is entirely idle.
    REQUIRE(std::int64_t(c.threads) * c.vecs_per_thread >= vectors);
    REQUIRE(std::int64_t(c.threads - 32) * c.vecs_per_thread < vectors);
  }
}

TEST_CASE("row configs: the benchmarked hidden sizes are held in registers", "[cuda][plan]") {
  for (std::int64_t hidden : {1024, 4096, 8192}) {
    for (DType t : {DType::bf16, DType::f16, DType::f32}) {
      INFO("hidden " << hidden << " dtype " << normcheck::numeric::dtype_name(t));
      CHECK(row_forward_config(hidden, t, true).cached);
      CHECK(row_backward_config(hidden, t, true).cached);
    }
  }
  // 8192 bf16: 1024 vectors of 8, four per thread, 256 threads.
  const RowConfig c = row_forward_config(8192, DType::bf16, true);
  CHECK(c.vec == 8);
  CHECK(c.vecs_per_thread == 4);
  CHECK(c.threads == 256);
  // The forward gives each thread 4 vectors (64 bytes) where the registers
  // allow: 1024 bf16 is one warp; the backward keeps one vector per thread.
  CHECK(row_forward_config(1024, DType::bf16, true).threads == 32);
  CHECK(row_forward_config(1024, DType::f32, true).threads == 64);
  CHECK(row_forward_config(4096, DType::bf16, true).threads == 128);
  CHECK(row_forward_config(8192, DType::f32, true).vecs_per_thread == 8);
  CHECK(row_backward_config(1024, DType::bf16, true).vecs_per_thread == 1);
  CHECK(row_backward_config(1024, DType::bf16, true).threads == 128);
}

TEST_CASE("row configs: misaligned or ragged rows take the fallback", "[cuda][plan]") {
  CHECK_FALSE(row_forward_config(4096, DType::f32, false).cached);
  CHECK_FALSE(row_forward_config(1025, DType::f32, true).cached);
  CHECK_FALSE(row_forward_config(1, DType::bf16, true).cached);
  CHECK_FALSE(row_forward_config(65536, DType::bf16, true).cached);
  CHECK(row_forward_config(1025, DType::f32, true).threads == 512);
  CHECK(row_forward_config(1, DType::f32, true).threads == 32);
}

TEST_CASE("row plans do not depend on the row count", "[cuda][plan]") {
  // Batch invariance: the same row length in a batch of 1 and of 64 gets the
  // same plan except for the row count.
  nc_problem one = make_problem(NC_OP_LAYER_NORM, {1, 4096}, DType::bf16);
  nc_problem many = make_problem(NC_OP_LAYER_NORM, {8, 8, 4096}, DType::bf16);
  many.norm_axis = 2;
  const auto a = std::get<RowNormPlan>(make_plan(&one));
  const auto b = std::get<RowNormPlan>(make_plan(&many));
  CHECK(a.rows == 1);
  CHECK(b.rows == 64);
  CHECK(a.hidden == b.hidden);
  CHECK(row_param_parts(1, 4096) == 1);
  CHECK(row_param_parts(64, 4096) == 64);
  CHECK(row_param_parts(100000, 4096) == 256);
  CHECK(row_param_parts(100000, 65536) == 256);
  CHECK(row_param_parts(100000, 1024) == 1024);  // short rows: more, smaller blocks
  CHECK(row_param_parts(100000, 2048) == 512);
  CHECK(row_param_parts(100000, 1) == 1024);
}

TEST_CASE("row plans: axis splits rows from the normalized dims", "[cuda][plan]") {
  nc_problem p = make_problem(NC_OP_RMS_NORM, {2, 3, 5, 7}, DType::f32);
  p.norm_axis = 1;
  const auto r = std::get<RowNormPlan>(make_plan(&p));
  CHECK(r.rms);
  CHECK(r.rows == 2);
  CHECK(r.hidden == 105);
}

TEST_CASE("row plans: unsupported gamma/beta pairings are declined with the reason",
          "[cuda][plan]") {
  nc_problem p = make_problem(NC_OP_LAYER_NORM, {4, 64}, DType::bf16);
  set_dtypes(p, DType::bf16, DType::f16, DType::f32);
  CHECK_THROWS_AS(make_plan(&p), normcheck::support::Unsupported);
  CHECK_THROWS_WITH(make_plan(&p), Catch::Matchers::Contains("bf16 data and f16 gamma/beta"));
  set_dtypes(p, DType::bf16, DType::f32, DType::f32);
  CHECK_NOTHROW(make_plan(&p));
  set_dtypes(p, DType::f32, DType::bf16, DType::f32);
  CHECK_THROWS_AS(make_plan(&p), normcheck::support::Unsupported);
}

TEST_CASE("malformed problems are argument errors", "[cuda][plan]") {
  nc_problem p = make_problem(NC_OP_GROUP_NORM, {2, 6, 4}, DType::f32);
  p.groups = 4;
  CHECK_THROWS_AS(make_plan(&p), normcheck::support::ArgumentError);
  CHECK_THROWS_AS(make_plan(nullptr), normcheck::support::ArgumentError);
}

TEST_CASE("channel plans: canonical (N, C, S) and the view of the partials", "[cuda][plan]") {
  SECTION("NCHW batch norm: run view, one cell per (n, c)") {
    const nc_problem p = make_problem(NC_OP_BATCH_NORM, {4, 3, 5, 7}, DType::f32);
    const auto c = std::get<ChannelNormPlan>(make_plan(&p));
    CHECK((c.n == 4 && c.c == 3 && c.s == 35 && !c.channels_last));
    CHECK(c.stat_groups() == 3);
    CHECK(c.group_size() == 140);
    const auto l = channel_partial_layout(c);
    CHECK_FALSE(l.column_view);
    CHECK(l.parts == 1);
    CHECK(l.entries() == 12);
  }
  SECTION("NCHW with one spatial element is the same memory as NHWC") {
    const nc_problem p = make_problem(NC_OP_BATCH_NORM, {16, 32}, DType::f32);
    const auto c = std::get<ChannelNormPlan>(make_plan(&p));
    CHECK(c.channels_last);
    const auto l = channel_partial_layout(c);
    CHECK(l.column_view);
    CHECK(l.segments == 1);
    CHECK(l.length == 16);
  }
  SECTION("NHWC group norm: one segment per sample") {
    nc_problem p = make_problem(NC_OP_GROUP_NORM, {2, 9, 9, 12}, DType::bf16);
    p.layout = NC_LAYOUT_NHWC;
    p.groups = 3;
    const auto c = std::get<ChannelNormPlan>(make_plan(&p));
    CHECK((c.n == 2 && c.c == 12 && c.s == 81 && c.channels_last));
    CHECK(c.channels_per_group() == 4);
    CHECK(c.stat_groups() == 6);
    CHECK(c.group_size() == 324);
    const auto l = channel_partial_layout(c);
    CHECK(l.column_view);
    CHECK(l.segments == 2);
    CHECK(l.length == 81);
  }
  SECTION("long runs are split into fixed chunks") {
    const nc_problem p = make_problem(NC_OP_INSTANCE_NORM, {1, 2, 10000}, DType::f32);
    const auto l = channel_partial_layout(std::get<ChannelNormPlan>(make_plan(&p)));
    CHECK(l.chunk == 4096);
    CHECK(l.parts == 3);
  }
}

TEST_CASE("channel plans: every partial (n, c, part) has its own slot", "[cuda][plan]") {
  const bool nhwc = GENERATE(false, true);
  nc_problem p = make_problem(NC_OP_INSTANCE_NORM, {3, 5, 700}, DType::f32);
  if (nhwc) {
    p.layout = NC_LAYOUT_NHWC;
    p.shape[1] = 700;
    p.shape[2] = 5;
  }
  const auto l = channel_partial_layout(std::get<ChannelNormPlan>(make_plan(&p)));
  std::set<std::int64_t> seen;
  for (std::int64_t n = 0; n < l.segments; ++n)
    for (std::int64_t c = 0; c < 5; ++c)
      for (std::int64_t part = 0; part < l.parts; ++part) {
        const auto i = l.index(n, c, part);
        REQUIRE(i >= 0);
        REQUIRE(i < l.entries());
        REQUIRE(seen.insert(i).second);
      }
  CHECK(std::int64_t(seen.size()) == l.entries());
}

TEST_CASE("channel plans: vector width of the elementwise pass", "[cuda][plan]") {
  nc_problem p = make_problem(NC_OP_BATCH_NORM, {2, 3, 16}, DType::bf16);
  const auto run16 = std::get<ChannelNormPlan>(make_plan(&p));
  CHECK(channel_apply_vec(run16, true) == 8);
  CHECK(channel_apply_vec(run16, false) == 1);
  p.shape[2] = 12;  // 12 % 8 != 0: a vector would straddle two channels
  CHECK(channel_apply_vec(std::get<ChannelNormPlan>(make_plan(&p)), true) == 1);
  p.layout = NC_LAYOUT_NHWC;
  p.shape[2] = 16;  // 16 channels last
  CHECK(channel_apply_vec(std::get<ChannelNormPlan>(make_plan(&p)), true) == 8);
}
