#pragma once
// Exact per-channel batch statistics behind a running-stats update, as
// rationals: bn over (N, spatial); instance norm the average over the N
// instances of per-instance statistics (see running_stats.hpp).

#include <optional>
#include <span>
#include <vector>

#include "normcheck/reference/geometry.hpp"
#include "normcheck/reference/running_stats.hpp"
#include "rational.hpp"

namespace normcheck::reference::detail {

struct ExactChannelStats {
  Rational mean, var;  // var: the estimator's (biased or n/(n-1) times it)
};

// Throws std::invalid_argument for a bad op/sizes/momentum/estimator.
void validate_running_update(const NormGeometry& g, std::span<const double> x,
                             std::span<const double> running_mean,
                             std::span<const double> running_var, const RunningStatsUpdate& u);

// nullopt when some x is outside in_exact_domain (NaN, inf, extreme).
std::optional<std::vector<ExactChannelStats>> exact_batch_stats(const NormGeometry& g,
                                                                std::span<const double> x,
                                                                VarianceEstimator e);

// Weights of the old value and of the batch statistic under the convention.
Rational weight_old(double momentum, MomentumConvention c);
Rational weight_new(double momentum, MomentumConvention c);

}  // namespace normcheck::reference::detail
