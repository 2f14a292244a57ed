#pragma once
// Running-statistics updates of batch_norm and instance_norm
// (track_running_stats), one step or a trajectory of steps.

#include <span>
#include <vector>

#include "normcheck/reference/certification.hpp"
#include "normcheck/reference/geometry.hpp"
#include "normcheck/reference/normalization.hpp"

namespace normcheck::reference {

// torch:  new = (1 - m) * old + m * batch
// paddle: new = m * old + (1 - m) * batch
enum class MomentumConvention { torch, paddle };
// The batch variance folded into running_var: unbiased (n / (n - 1)) as
// PyTorch and Paddle do, or biased. n is the element count behind one
// variance (bn: N * spatial; in: spatial). Unbiased with n == 1 is 0/0 and
// is rejected (PyTorch raises for it too).
enum class VarianceEstimator { unbiased, biased };

struct RunningStatsUpdate {
  double momentum = 0.1;
  MomentumConvention convention = MomentumConvention::torch;
  VarianceEstimator estimator = VarianceEstimator::unbiased;
};

struct RunningStatsResult {
  CertifiedVector mean;  // per channel
  CertifiedVector var;
};

// One training step on batch x: bn per channel over (N, spatial); instance
// norm per channel from the average over the N instances of the per-instance
// mean and (per-instance, estimator-adjusted) variance, as PyTorch does.
RunningStatsResult update_running_stats(const NormGeometry& g, std::span<const double> x,
                                        std::span<const double> running_mean,
                                        std::span<const double> running_var,
                                        const RunningStatsUpdate& update);

struct TrajectoryInputs {
  std::vector<std::span<const double>> batches{};  // K training batches, shape g.shape
  std::span<const double> initial_mean{}, initial_var{};
  std::span<const double> eval_x{};  // evaluated with the final running stats
  std::span<const double> gamma{}, beta{};
  double eps = 1e-5;
  RunningStatsUpdate update{};
};

struct TrajectoryResult {
  // steps[k]: running stats after step k + 1. The chain is exact: step k+1
  // starts from the exact (unrounded) state after step k; each reported
  // value is that exact state rounded once.
  std::vector<RunningStatsResult> steps;
  // Eval forward of eval_x with the exact final running stats.
  ForwardResult eval;
};

TrajectoryResult running_stats_trajectory(const NormGeometry& g, const TrajectoryInputs& in);

}  // namespace normcheck::reference
