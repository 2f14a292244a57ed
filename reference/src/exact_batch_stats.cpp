#include "exact_batch_stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "exact_sum.hpp"

namespace normcheck::reference::detail {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::invalid_argument(field + ": " + why);
}

std::int64_t estimator_count(const NormGeometry& g) {
  return g.op == NormOp::batch_norm ? g.batch() * g.spatial() : g.spatial();
}

// Mean and estimator-adjusted variance of count elements with exact sums.
ExactChannelStats finish(const ExactSum& s1, const ExactSum& s2, std::int64_t count,
                         VarianceEstimator e) {
  const Rational n(count), a = s1.to_rational(), b = s2.to_rational();
  const Rational biased = (n * b - a * a) / (n * n);
  const Rational var = e == VarianceEstimator::unbiased ? Rational(biased * n / (n - 1)) : biased;
  return {Rational(a / n), var};
}

}  // namespace

void validate_running_update(const NormGeometry& g, std::span<const double> x,
                             std::span<const double> running_mean,
                             std::span<const double> running_var, const RunningStatsUpdate& u) {
  g.validate();
  if (g.op != NormOp::batch_norm && g.op != NormOp::instance_norm)
    bad("NormGeometry.op", "running statistics exist for batch_norm and instance_norm only");
  if (static_cast<std::int64_t>(x.size()) != g.num_elements())
    bad("x", "size differs from the geometry");
  const auto c = static_cast<std::size_t>(g.channels());
  if (running_mean.size() != c) bad("running_mean", "needs one value per channel");
  if (running_var.size() != c) bad("running_var", "needs one value per channel");
  if (!std::isfinite(u.momentum) || u.momentum < 0 || u.momentum > 1)
    bad("RunningStatsUpdate.momentum", "must be in [0, 1]");
  if (u.convention != MomentumConvention::torch && u.convention != MomentumConvention::paddle)
    bad("RunningStatsUpdate.convention", "not a MomentumConvention value");
  if (u.estimator != VarianceEstimator::unbiased && u.estimator != VarianceEstimator::biased)
    bad("RunningStatsUpdate.estimator", "not a VarianceEstimator value");
  if (u.estimator == VarianceEstimator::unbiased && estimator_count(g) < 2)
    bad("RunningStatsUpdate.estimator",
        "the unbiased variance of a single element is 0/0 (PyTorch raises too); use biased");
}

std::optional<std::vector<ExactChannelStats>> exact_batch_stats(const NormGeometry& g,
                                                                std::span<const double> x,
                                                                VarianceEstimator e) {
  if (!std::all_of(x.begin(), x.end(), in_exact_domain)) return std::nullopt;
  const CanonicalDims d = canonical_dims(g);
  std::vector<ExactChannelStats> out(static_cast<std::size_t>(d.c));
  for (std::int64_t c = 0; c < d.c; ++c) {
    if (g.op == NormOp::batch_norm) {
      ExactSum s1, s2;
      for (std::int64_t in = 0; in < d.n; ++in)
        for (std::int64_t is = 0; is < d.s; ++is) {
          const double v = x[d.flat(in, c, is)];
          s1.add(v);
          s2.add_product(v, v);
        }
      out[c] = finish(s1, s2, d.n * d.s, e);
    } else {
      Rational mean_sum(0), var_sum(0);
      for (std::int64_t in = 0; in < d.n; ++in) {
        ExactSum s1, s2;
        for (std::int64_t is = 0; is < d.s; ++is) {
          const double v = x[d.flat(in, c, is)];
          s1.add(v);
          s2.add_product(v, v);
        }
        const ExactChannelStats inst = finish(s1, s2, d.s, e);
        mean_sum += inst.mean;
        var_sum += inst.var;
      }
      out[c] = {Rational(mean_sum / d.n), Rational(var_sum / d.n)};
    }
  }
  return out;
}

Rational weight_old(double momentum, MomentumConvention c) {
  const Rational m = to_rational(momentum);
  return c == MomentumConvention::torch ? Rational(1 - m) : m;
}

Rational weight_new(double momentum, MomentumConvention c) {
  const Rational m = to_rational(momentum);
  return c == MomentumConvention::torch ? m : Rational(1 - m);
}

}  // namespace normcheck::reference::detail
