// One certified running-stats update. The new values are rationals computed
// exactly (momentum and old values are doubles, batch statistics exact
// rationals), so each is rounded once with no working precision at all.

#include "normcheck/reference/running_stats.hpp"

#include "exact_batch_stats.hpp"
#include "normcheck/reference/generic.hpp"
#include "rounding.hpp"
#include "two_precision.hpp"

namespace normcheck::reference {

namespace {

bool all_finite(std::span<const double> v) {
  for (double d : v)
    if (!std::isfinite(d)) return false;
  return true;
}

CertifiedVector exact_vector(const std::vector<detail::Rational>& v) {
  CertifiedVector out;
  out.cert.method = CertMethod::rigorous;
  out.cert.precision_bits = 0;  // exact rational arithmetic
  out.values.reserve(v.size());
  for (const auto& q : v) out.values.push_back(detail::round_exact(q));
  return out;
}

}  // namespace

RunningStatsResult update_running_stats(const NormGeometry& g, std::span<const double> x,
                                        std::span<const double> running_mean,
                                        std::span<const double> running_var,
                                        const RunningStatsUpdate& u) {
  detail::validate_running_update(g, x, running_mean, running_var, u);
  const auto stats = all_finite(running_mean) && all_finite(running_var)
                         ? detail::exact_batch_stats(g, x, u.estimator)
                         : std::nullopt;
  if (stats) {
    const detail::Rational wo = detail::weight_old(u.momentum, u.convention);
    const detail::Rational wn = detail::weight_new(u.momentum, u.convention);
    std::vector<detail::Rational> mean, var;
    for (std::size_t c = 0; c < stats->size(); ++c) {
      mean.push_back(wo * detail::to_rational(running_mean[c]) + wn * (*stats)[c].mean);
      var.push_back(wo * detail::to_rational(running_var[c]) + wn * (*stats)[c].var);
    }
    return {exact_vector(mean), exact_vector(var)};
  }
  auto out = detail::certify_two_precision([&](unsigned bits) {
    PrecisionScope scope(bits);
    RunningStatsValues<Mpfr> old{lift<Mpfr>(running_mean), lift<Mpfr>(running_var)};
    auto r = generic_update_running_stats(g, lift<Mpfr>(x), old, Mpfr(u.momentum), u.convention,
                                          u.estimator);
    return detail::MpfrOutputs{std::move(r.mean), std::move(r.var)};
  });
  return {std::move(out[0]), std::move(out[1])};
}

}  // namespace normcheck::reference
