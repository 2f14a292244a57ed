#pragma once
// The generic definition: every formula written once, templated on the
// scalar T, evaluated naively. Instantiated for T = double (what a careful
// double kernel would compute) and T = Mpfr (MPFR at a chosen precision: the
// slow, obviously-correct definition the fast certified path is tested
// against). Inputs are lifted to T, so gradient tests can perturb them by
// amounts no double can hold.

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include <boost/multiprecision/mpfr.hpp>

#include "normcheck/reference/geometry.hpp"
#include "normcheck/reference/problem.hpp"
#include "normcheck/reference/running_stats.hpp"

namespace normcheck::reference {

using Mpfr = boost::multiprecision::number<boost::multiprecision::mpfr_float_backend<0>>;

// Sets the precision new Mpfr values get, restoring the previous one on exit.
// Boost 1.74 keeps this default in one process-wide variable, so Mpfr
// evaluations at different precisions must not run concurrently.
class PrecisionScope {
 public:
  explicit PrecisionScope(unsigned bits);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  unsigned saved_digits10_;
};

unsigned precision_bits(const Mpfr& v);

template <class T>
struct Problem {
  NormGeometry geometry;
  Mode mode = Mode::train;
  T eps{};
  std::vector<T> x, residual, gamma, beta, running_mean, running_var;  // empty = absent
};

// Lifts double inputs to T (exactly, at the current precision for Mpfr).
template <class T>
Problem<T> lift_problem(const NormGeometry& g, const ForwardInputs& in);

template <class T>
std::vector<T> lift(std::span<const double> v);

template <class T>
struct ForwardValues {
  std::vector<T> y, residual_out, mean, rstd;
};

template <class T>
struct BackwardValues {
  std::vector<T> dx, dresidual, dgamma, dbeta;
};

template <class T>
ForwardValues<T> generic_forward(const Problem<T>& p);

template <class T>
BackwardValues<T> generic_backward(const Problem<T>& p, const std::vector<T>& dy);

// kappa per stat group (see normalization.hpp).
template <class T>
std::vector<T> generic_condition_numbers(const Problem<T>& p);

template <class T>
struct RunningStatsValues {
  std::vector<T> mean, var;
};

template <class T>
RunningStatsValues<T> generic_update_running_stats(const NormGeometry& g, const std::vector<T>& x,
                                                   const RunningStatsValues<T>& old,
                                                   const T& momentum, MomentumConvention convention,
                                                   VarianceEstimator estimator);

template <class T>
struct TrajectoryValues {
  std::vector<RunningStatsValues<T>> steps;
  ForwardValues<T> eval;
};

template <class T>
TrajectoryValues<T> generic_trajectory(const NormGeometry& g,
                                       const std::vector<std::vector<T>>& batches,
                                       const RunningStatsValues<T>& initial,
                                       const std::vector<T>& eval_x, const std::vector<T>& gamma,
                                       const std::vector<T>& beta, const T& eps, const T& momentum,
                                       MomentumConvention convention, VarianceEstimator estimator);

// SyncBatchNorm written the distributed way: per-shard sums, an all-reduce
// (here a plain sum over shards), then per-shard normalization; as
// torch.nn.SyncBatchNorm does. Must equal generic_forward on the concatenation.
template <class T>
struct SyncValues {
  std::vector<std::vector<T>> y, dx;
  std::vector<T> mean, rstd, dgamma, dbeta;
  std::optional<RunningStatsValues<T>> running;
};

template <class T>
struct SyncProblem {
  NormGeometry geometry;  // global batch
  std::vector<std::int64_t> shard_batch;
  std::vector<std::vector<T>> x, dy;  // per shard; dy empty: no backward
  std::vector<T> gamma, beta, running_mean, running_var;
  T eps{};
  Mode mode = Mode::train;
  std::optional<T> momentum;  // set: update running stats (train mode)
  MomentumConvention convention = MomentumConvention::torch;
  VarianceEstimator estimator = VarianceEstimator::unbiased;
};

template <class T>
SyncValues<T> generic_sync_batch_norm(const SyncProblem<T>& p);

struct ConvShapes {
  std::array<std::int64_t, 4> x{}, w{};  // (N, IC, H, W), (OC, IC, KH, KW)
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  std::array<std::int64_t, 4> out() const;
};

template <class T>
std::vector<T> generic_conv2d(const std::vector<T>& x, const std::vector<T>& w,
                              const std::vector<T>& bias, const ConvShapes& s);

template <class T>
struct FoldedValues {
  std::vector<T> weight, bias;
};

template <class T>
FoldedValues<T> generic_fold_conv_bn(const std::vector<T>& w,
                                     const std::array<std::int64_t, 4>& w_shape,
                                     const std::vector<T>& bias, const std::vector<T>& gamma,
                                     const std::vector<T>& beta, const std::vector<T>& running_mean,
                                     const std::vector<T>& running_var, const T& eps);

}  // namespace normcheck::reference
