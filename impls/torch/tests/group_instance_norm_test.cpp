// Group and instance norm through the libtorch plugin on closed-form
// inputs: every statistic group holds [1, 2, 3, 4] or [10, 20, 30, 40]
// (biased variance 1.25 and 125), which with eps = 0 normalize alike.
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
using normcheck::testing::random_inputs;
using normcheck::testing::run_backward;
using normcheck::testing::run_forward;

namespace {

const double rstd = 2.0 / std::sqrt(5.0);
constexpr double f32_rel = 1e-6;  // f32 kernels on exact sums: ~8 ulps

// xhat of a value of either group.
double xhat(double v) {
  return ((v >= 10 ? v / 10 : v) - 2.5) * rstd;
}

}  // namespace

TEST_CASE("group norm normalizes each group of channels", "[torch][gn]") {
  const auto layout = GENERATE(NC_LAYOUT_NCHW, NC_LAYOUT_NHWC);
  // N=1, C=4, W=2, G=2: group 0 is channels 0-1, group 1 channels 2-3.
  const std::vector<double> nchw{1, 2, 3, 4, 10, 20, 30, 40}, nhwc{1, 3, 10, 30, 2, 4, 20, 40};
  auto p = make_problem(NC_OP_GROUP_NORM,
                        layout == NC_LAYOUT_NCHW ? std::vector<std::int64_t>{1, 4, 2}
                                                 : std::vector<std::int64_t>{1, 2, 4},
                        DType::f32);
  p.layout = layout;
  p.groups = 2;
  p.eps = 0.0;
  p.flags = 0;
  Inputs in;
  in.x = HostTensor(DType::f32, {p.shape[0], p.shape[1], p.shape[2]},
                    layout == NC_LAYOUT_NCHW ? nchw : nhwc);
  auto r = run_forward(plugin(), p, in);
  INFO(r.message);
  REQUIRE(r.status == NC_OK);
  CHECK(r.saved_mean.values() == std::vector<double>{2.5, 25.0});
  CHECK_THAT(r.saved_rstd.at(1), WithinRel(rstd / 10, f32_rel));
  for (std::int64_t i = 0; i < 8; ++i) CHECK_THAT(r.y.at(i), WithinRel(xhat(in.x.at(i)), f32_rel));

  SECTION("dy = xhat gives dx = 0 and dgamma = group size per channel pair") {
    // With dy = xhat, mean(dy) = 0 and mean(dy xhat) = 1: dx = 0 exactly in
    // exact arithmetic, a few f32 ulps of rstd here.
    p.flags = NC_FLAG_SCALE;
    in.gamma = HostTensor(DType::f32, {4}, {1, 1, 1, 1});
    in.dy = HostTensor(DType::f32, in.x.shape);
    for (std::int64_t i = 0; i < 8; ++i) in.dy.set(i, xhat(in.x.at(i)));
    auto f = run_forward(plugin(), p, in);
    auto b = run_backward(plugin(), p, in, f);
    INFO(b.message);
    REQUIRE(b.status == NC_OK);
    for (std::int64_t i = 0; i < 8; ++i) CHECK_THAT(b.dx.at(i), WithinAbs(0.0, 1e-5));
    // dgamma[c] = sum over the channel's two values of xhat^2.
    const double xh[] = {xhat(1), xhat(2), xhat(3), xhat(4)};
    CHECK_THAT(b.dgamma.at(0), WithinRel(xh[0] * xh[0] + xh[1] * xh[1], f32_rel));
    CHECK_THAT(b.dgamma.at(1), WithinRel(xh[2] * xh[2] + xh[3] * xh[3], f32_rel));
  }
}

TEST_CASE("group norm backward of channels-last rank-4 data equals that of the same data in NCHW",
          "[torch][gn]") {
  // Rank 4 is where ATen has a channels-last memory format (rank 3 above has
  // none). ATen 1.13's native_group_norm_backward reads its inputs as NCHW
  // whatever their strides, so handing it channels-last tensors gave
  // gradients with the wrong sign; the adapter makes them contiguous first,
  // as 1.13's autograd does. Same values, same sums: only the order of the
  // f32 reductions may differ (a few ulps of values of order 1).
  const std::int64_t N = 1, C = 4, H = 2, W = 2;
  auto nchw = make_problem(NC_OP_GROUP_NORM, {N, C, H, W}, DType::f32);
  nchw.groups = 2;
  Inputs a = random_inputs(nchw, 7);
  auto nhwc = nchw;
  nhwc.layout = NC_LAYOUT_NHWC;
  nhwc.shape[1] = H;
  nhwc.shape[2] = W;
  nhwc.shape[3] = C;
  Inputs b = a;
  b.x = HostTensor(DType::f32, {N, H, W, C});
  b.dy = HostTensor(DType::f32, {N, H, W, C});
  const auto nhwc_index = [&](std::int64_t c, std::int64_t hw) { return hw * C + c; };
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t hw = 0; hw < H * W; ++hw) {
      b.x.set(nhwc_index(c, hw), a.x.at(c * H * W + hw));
      b.dy.set(nhwc_index(c, hw), a.dy.at(c * H * W + hw));
    }
  auto fa = run_forward(plugin(), nchw, a);
  auto fb = run_forward(plugin(), nhwc, b);
  REQUIRE(fa.status == NC_OK);
  REQUIRE(fb.status == NC_OK);
  auto ga = run_backward(plugin(), nchw, a, fa);
  auto gb = run_backward(plugin(), nhwc, b, fb);
  INFO(gb.message);
  REQUIRE(ga.status == NC_OK);
  REQUIRE(gb.status == NC_OK);
  for (std::int64_t c = 0; c < C; ++c) {
    for (std::int64_t hw = 0; hw < H * W; ++hw)
      CHECK_THAT(gb.dx.at(nhwc_index(c, hw)), WithinAbs(ga.dx.at(c * H * W + hw), 1e-5));
    CHECK_THAT(gb.dgamma.at(c), WithinAbs(ga.dgamma.at(c), 1e-5));
    CHECK_THAT(gb.dbeta.at(c), WithinAbs(ga.dbeta.at(c), 1e-5));
  }
}

TEST_CASE("instance norm normalizes each (n, c) and tracks PyTorch's running statistics",
          "[torch][in]") {
  const auto layout = GENERATE(NC_LAYOUT_NCHW, NC_LAYOUT_NHWC);
  // N=2, C=1, four spatial values per instance (channels last is the same buffer for C=1).
  auto p = make_problem(NC_OP_INSTANCE_NORM,
                        layout == NC_LAYOUT_NCHW ? std::vector<std::int64_t>{2, 1, 4}
                                                 : std::vector<std::int64_t>{2, 4, 1},
                        DType::f32);
  p.layout = layout;
  p.eps = 0.0;
  p.flags = NC_FLAG_SCALE | NC_FLAG_SHIFT | NC_FLAG_TRACK_RUNNING_STATS;
  Inputs in;
  in.x = HostTensor(DType::f32, {p.shape[0], p.shape[1], p.shape[2]}, {1, 2, 3, 4, 10, 20, 30, 40});
  in.gamma = HostTensor(DType::f32, {1}, {2.0});
  in.beta = HostTensor(DType::f32, {1}, {0.5});
  in.running_mean = HostTensor(DType::f32, {1}, {0.0});
  in.running_var = HostTensor(DType::f32, {1}, {1.0});
  auto r = run_forward(plugin(), p, in);
  INFO(r.message);
  REQUIRE(r.status == NC_OK);
  CHECK(r.saved_mean.values() == std::vector<double>{2.5, 25.0});
  CHECK_THAT(r.saved_rstd.at(0), WithinRel(rstd, f32_rel));
  CHECK_THAT(r.saved_rstd.at(1), WithinRel(rstd / 10, f32_rel));
  for (std::int64_t i = 0; i < 8; ++i)
    CHECK_THAT(r.y.at(i), WithinRel(2.0 * xhat(in.x.at(i)) + 0.5, f32_rel));
  // PyTorch averages the per-instance statistics over the batch: mean
  // (2.5 + 25)/2, unbiased variance (5/3 + 500/3)/2, blended with momentum 0.1.
  CHECK_THAT(r.running_mean.at(0), WithinRel(0.1 * 13.75, f32_rel));
  CHECK_THAT(r.running_var.at(0), WithinRel(0.9 + 0.1 * 505.0 / 6.0, f32_rel));

  SECTION("the autograd backward has the closed-form gradients") {
    const std::vector<double> dyv{-0.5, 2, 0.25, 1, 1, 0, 0, 0};
    in.dy = HostTensor(DType::f32, in.x.shape, dyv);
    in.running_mean = HostTensor(DType::f32, {1}, {0.0});
    auto b = run_backward(plugin(), p, in, r);
    INFO(b.message);
    REQUIRE(b.status == NC_OK);
    // Per instance, in double (linked_plugin.hpp); f32 arithmetic: a few ulps.
    double dgamma = 0, dbeta = 0;
    for (std::size_t n = 0; n < 2; ++n) {
      const std::span<const double> dy_n(dyv.data() + 4 * n, 4);
      std::vector<double> xh;
      for (std::int64_t j = 0; j < 4; ++j) xh.push_back(xhat(in.x.at(std::int64_t(4 * n) + j)));
      const auto expected = group_gradients(dy_n, xh, 2.0 * (n == 0 ? rstd : rstd / 10));
      for (std::size_t j = 0; j < 4; ++j)
        CHECK_THAT(b.dx.at(std::int64_t(4 * n + j)), WithinAbs(expected.dx[j], 1e-6));
      dgamma += expected.sum_dy_xhat;
      dbeta += expected.sum_dy;
    }
    CHECK_THAT(b.dgamma.at(0), WithinAbs(dgamma, 1e-6));
    CHECK_THAT(b.dbeta.at(0), WithinAbs(dbeta, 1e-6));
  }
}
