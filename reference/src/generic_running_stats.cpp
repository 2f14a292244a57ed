// The generic definition of running-statistics updates and trajectories.

#include <stdexcept>

#include "normcheck/reference/generic.hpp"

namespace normcheck::reference {

namespace {

void require_running_op(const NormGeometry& g) {
  g.validate();
  if (g.op != NormOp::batch_norm && g.op != NormOp::instance_norm)
    throw std::invalid_argument(
        "NormGeometry.op: running statistics exist for batch_norm and instance_norm only");
}

// Factor turning a biased variance over n elements into the estimator's.
template <class T>
T estimator_factor(std::int64_t n, VarianceEstimator e) {
  if (e == VarianceEstimator::biased) return T(1);
  if (n < 2)
    throw std::invalid_argument(
        "RunningStatsUpdate.estimator: the unbiased variance of a single element is 0/0");
  return T(static_cast<double>(n)) / T(static_cast<double>(n - 1));
}

// Mean and biased variance of the elements (n, c, s) with n in [n0, n1).
template <class T>
void moments(const CanonicalDims& d, const std::vector<T>& x, std::int64_t n0, std::int64_t n1,
             std::int64_t c, T& mean, T& var) {
  const T count(static_cast<double>((n1 - n0) * d.s));
  T s(0);
  for (std::int64_t in = n0; in < n1; ++in)
    for (std::int64_t is = 0; is < d.s; ++is) s += x[d.flat(in, c, is)];
  mean = s / count;
  T v(0);
  for (std::int64_t in = n0; in < n1; ++in)
    for (std::int64_t is = 0; is < d.s; ++is) {
      const T dev = x[d.flat(in, c, is)] - mean;
      v += dev * dev;
    }
  var = v / count;
}

}  // namespace

template <class T>
RunningStatsValues<T> generic_update_running_stats(const NormGeometry& g, const std::vector<T>& x,
                                                   const RunningStatsValues<T>& old,
                                                   const T& momentum, MomentumConvention convention,
                                                   VarianceEstimator estimator) {
  require_running_op(g);
  const CanonicalDims d = canonical_dims(g);
  if (static_cast<std::int64_t>(x.size()) != d.n * d.c * d.s)
    throw std::invalid_argument("x: size differs from the geometry");
  if (static_cast<std::int64_t>(old.mean.size()) != d.c ||
      static_cast<std::int64_t>(old.var.size()) != d.c)
    throw std::invalid_argument("running_mean/running_var: need one value per channel");
  const bool bn = g.op == NormOp::batch_norm;
  const T factor = estimator_factor<T>(bn ? d.n * d.s : d.s, estimator);
  const T one(1);
  const T w_old = convention == MomentumConvention::torch ? T(one - momentum) : momentum;
  const T w_new = convention == MomentumConvention::torch ? momentum : T(one - momentum);

  RunningStatsValues<T> out{std::vector<T>(d.c, T(0)), std::vector<T>(d.c, T(0))};
  for (std::int64_t c = 0; c < d.c; ++c) {
    T bmean(0), bvar(0);
    if (bn) {
      moments(d, x, 0, d.n, c, bmean, bvar);
      bvar *= factor;
    } else {
      // PyTorch's instance_norm runs batch_norm on (1, N*C, S) with the stats
      // repeated N times and averages the N updated copies: the batch
      // statistic is the average of the per-instance ones.
      for (std::int64_t in = 0; in < d.n; ++in) {
        T m, v;
        moments(d, x, in, in + 1, c, m, v);
        bmean += m;
        bvar += v * factor;
      }
      bmean /= T(static_cast<double>(d.n));
      bvar /= T(static_cast<double>(d.n));
    }
    out.mean[c] = w_old * old.mean[c] + w_new * bmean;
    out.var[c] = w_old * old.var[c] + w_new * bvar;
  }
  return out;
}

template <class T>
TrajectoryValues<T> generic_trajectory(const NormGeometry& g,
                                       const std::vector<std::vector<T>>& batches,
                                       const RunningStatsValues<T>& initial,
                                       const std::vector<T>& eval_x, const std::vector<T>& gamma,
                                       const std::vector<T>& beta, const T& eps, const T& momentum,
                                       MomentumConvention convention, VarianceEstimator estimator) {
  TrajectoryValues<T> out;
  RunningStatsValues<T> state = initial;
  for (const auto& batch : batches) {
    state = generic_update_running_stats(g, batch, state, momentum, convention, estimator);
    out.steps.push_back(state);
  }
  Problem<T> p;
  p.geometry = g;
  p.mode = Mode::eval;
  p.eps = eps;
  p.x = eval_x;
  p.gamma = gamma;
  p.beta = beta;
  p.running_mean = state.mean;
  p.running_var = state.var;
  out.eval = generic_forward(p);
  return out;
}

#define NC_INSTANTIATE(T)                                                                      \
  template RunningStatsValues<T> generic_update_running_stats<T>(                              \
      const NormGeometry&, const std::vector<T>&, const RunningStatsValues<T>&, const T&,      \
      MomentumConvention, VarianceEstimator);                                                  \
  template TrajectoryValues<T> generic_trajectory<T>(                                          \
      const NormGeometry&, const std::vector<std::vector<T>>&, const RunningStatsValues<T>&,   \
      const std::vector<T>&, const std::vector<T>&, const std::vector<T>&, const T&, const T&, \
      MomentumConvention, VarianceEstimator);

NC_INSTANTIATE(double)
NC_INSTANTIATE(Mpfr)
#undef NC_INSTANTIATE

}  // namespace normcheck::reference
