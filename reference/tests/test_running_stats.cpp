// Running-statistics trajectories and SyncBatchNorm running updates against
// the generic MPFR definition (certified values: tolerance 0), plus the
// per-step chain being exact (no rounding between steps).

#include <catch2/catch.hpp>

#include "normcheck/reference/generic.hpp"
#include "normcheck/reference/running_stats.hpp"
#include "support.hpp"

using namespace nc_test;

TEST_CASE("trajectory: K exact steps, then eval with the final stats", "[running]") {
  std::mt19937_64 rng(61);
  for (NormOp op : {NormOp::batch_norm, NormOp::instance_norm})
    for (MomentumConvention conv : {MomentumConvention::torch, MomentumConvention::paddle})
      for (VarianceEstimator est : {VarianceEstimator::unbiased, VarianceEstimator::biased}) {
        const auto g = geometry(op, {3, 2, 5});
        std::vector<TestProblem> batches;
        for (int k = 0; k < 4; ++k) {
          ProblemSpec s;
          s.geometry = g;
          s.shift = 0.5 * k;
          batches.push_back(make_problem(rng, s));
        }
        TrajectoryInputs in;
        for (const auto& b : batches) in.batches.push_back(b.x);
        const std::vector<double> m0{0.1, -0.2}, v0{1.0, 0.5};
        in.initial_mean = m0;
        in.initial_var = v0;
        in.eval_x = batches[0].x;
        in.gamma = batches[0].gamma;
        in.beta = batches[0].beta;
        in.eps = 1e-5;
        in.update = {0.1, conv, est};
        const TrajectoryResult t = running_stats_trajectory(g, in);
        REQUIRE(t.steps.size() == 4);
        CHECK(t.eval.y.cert.all_certified);

        // Generic MPFR trajectory at 512 bits, rounded.
        PrecisionScope scope(512);
        std::vector<std::vector<Mpfr>> xs;
        for (const auto& b : batches) xs.push_back(lift<Mpfr>(b.x));
        const auto gt = generic_trajectory(g, xs, {lift<Mpfr>(m0), lift<Mpfr>(v0)},
                                           lift<Mpfr>(in.eval_x), lift<Mpfr>(in.gamma),
                                           lift<Mpfr>(in.beta), Mpfr(1e-5), Mpfr(0.1), conv, est);
        INFO(to_string(op) << " conv " << int(conv) << " est " << int(est));
        for (int k = 0; k < 4; ++k)
          for (int c = 0; c < 2; ++c) {
            CHECK(t.steps[k].mean.values[c] == static_cast<double>(gt.steps[k].mean[c]));
            CHECK(t.steps[k].var.values[c] == static_cast<double>(gt.steps[k].var[c]));
          }
        for (std::size_t i = 0; i < gt.eval.y.size(); ++i)
          CHECK(t.eval.y.values[i] == static_cast<double>(gt.eval.y[i]));

        // One step from the initial state equals update_running_stats.
        const auto one = update_running_stats(g, batches[0].x, m0, v0, in.update);
        CHECK(one.mean.values == t.steps[0].mean.values);
        CHECK(one.var.values == t.steps[0].var.values);
      }
}

TEST_CASE("running stats with non-finite batches fall back to the MPFR definition", "[running]") {
  const auto g = geometry(NormOp::batch_norm, {2, 2});
  const std::vector<double> x{1, NAN, 3, 4}, m{0, 0}, v{1, 1};
  const auto r = update_running_stats(
      g, x, m, v, {0.5, MomentumConvention::torch, VarianceEstimator::unbiased});
  CHECK(r.mean.values[0] == 1.0);  // 0.5 * 0 + 0.5 * mean(1, 3)
  CHECK(r.var.values[0] == 1.5);   // 0.5 * 1 + 0.5 * 2 (unbiased var of {1, 3})
  CHECK(std::isnan(r.mean.values[1]));
  CHECK(r.mean.cert.method == CertMethod::two_precision);
}
