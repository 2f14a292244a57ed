// A certified running-stats trajectory: K exact updates (no rounding between
// steps), then an eval forward with the exact final statistics.

#include "exact_batch_stats.hpp"
#include "norm_engine.hpp"
#include "normcheck/reference/generic.hpp"
#include "normcheck/reference/running_stats.hpp"
#include "rounding.hpp"
#include "two_precision.hpp"

namespace normcheck::reference {

namespace {

CertifiedVector exact_vector(const std::vector<detail::Rational>& v) {
  CertifiedVector out;
  out.cert.precision_bits = 0;  // exact rational arithmetic
  for (const auto& q : v) out.values.push_back(detail::round_exact(q));
  return out;
}

bool all_finite(std::span<const double> v) {
  for (double d : v)
    if (!std::isfinite(d)) return false;
  return true;
}

std::optional<TrajectoryResult> exact_trajectory(const NormGeometry& g,
                                                 const TrajectoryInputs& in) {
  if (!all_finite(in.initial_mean) || !all_finite(in.initial_var)) return std::nullopt;
  std::vector<detail::Rational> mean = detail::to_rationals(in.initial_mean);
  std::vector<detail::Rational> var = detail::to_rationals(in.initial_var);
  const detail::Rational wo = detail::weight_old(in.update.momentum, in.update.convention);
  const detail::Rational wn = detail::weight_new(in.update.momentum, in.update.convention);
  TrajectoryResult out;
  for (std::span<const double> batch : in.batches) {
    const auto stats = detail::exact_batch_stats(g, batch, in.update.estimator);
    if (!stats) return std::nullopt;
    for (std::size_t c = 0; c < mean.size(); ++c) {
      mean[c] = wo * mean[c] + wn * (*stats)[c].mean;
      var[c] = wo * var[c] + wn * (*stats)[c].var;
    }
    out.steps.push_back({exact_vector(mean), exact_vector(var)});
  }
  detail::EngineInputs e;
  e.geometry = g;
  e.x = in.eval_x;
  e.gamma = in.gamma;
  e.beta = in.beta;
  e.eps = in.eps;
  e.mode = Mode::eval;
  e.running_mean = std::move(mean);
  e.running_var = std::move(var);
  if (!detail::engine_domain(e)) return std::nullopt;
  auto r = detail::run_engine(e);
  if (!r) return std::nullopt;
  out.eval = {detail::take_certified(r->y), detail::take_certified(r->residual_out),
              detail::take_certified(r->mean), detail::take_certified(r->rstd)};
  return out;
}

TrajectoryResult two_precision_trajectory(const NormGeometry& g, const TrajectoryInputs& in) {
  const std::size_t k = in.batches.size();
  auto out = detail::certify_two_precision([&](unsigned bits) {
    PrecisionScope scope(bits);
    std::vector<std::vector<Mpfr>> batches;
    for (auto b : in.batches) batches.push_back(lift<Mpfr>(b));
    RunningStatsValues<Mpfr> init{lift<Mpfr>(in.initial_mean), lift<Mpfr>(in.initial_var)};
    auto t = generic_trajectory(g, batches, init, lift<Mpfr>(in.eval_x), lift<Mpfr>(in.gamma),
                                lift<Mpfr>(in.beta), Mpfr(in.eps), Mpfr(in.update.momentum),
                                in.update.convention, in.update.estimator);
    detail::MpfrOutputs o;
    for (auto& s : t.steps) {
      o.push_back(std::move(s.mean));
      o.push_back(std::move(s.var));
    }
    o.push_back(std::move(t.eval.y));
    o.push_back(std::move(t.eval.mean));
    o.push_back(std::move(t.eval.rstd));
    return o;
  });
  TrajectoryResult r;
  for (std::size_t s = 0; s < k; ++s)
    r.steps.push_back({std::move(out[2 * s]), std::move(out[2 * s + 1])});
  r.eval.y = std::move(out[2 * k]);
  r.eval.mean = std::move(out[2 * k + 1]);
  r.eval.rstd = std::move(out[2 * k + 2]);
  return r;
}

}  // namespace

TrajectoryResult running_stats_trajectory(const NormGeometry& g, const TrajectoryInputs& in) {
  detail::validate_running_update(g, in.eval_x, in.initial_mean, in.initial_var, in.update);
  for (std::span<const double> b : in.batches)
    detail::validate_running_update(g, b, in.initial_mean, in.initial_var, in.update);
  ForwardInputs eval;  // validates eval_x, gamma, beta, eps against the geometry
  eval.x = in.eval_x;
  eval.gamma = in.gamma;
  eval.beta = in.beta;
  eval.eps = in.eps;
  eval.mode = Mode::eval;
  eval.running_mean = in.initial_mean;
  eval.running_var = in.initial_var;
  validate(g, eval);
  if (auto r = exact_trajectory(g, in)) return *r;
  return two_precision_trajectory(g, in);
}

}  // namespace normcheck::reference
