#include "naive_norm.hpp"

#include <cmath>
#include <vector>

#include "normcheck/support/element_map.hpp"
#include "normcheck/support/fold.hpp"
#include "normcheck/support/statistics.hpp"
#include "normcheck/support/storage.hpp"

namespace normcheck::naive {

using namespace support;

namespace {

template <class T>
std::vector<double> as_doubles(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// SyncBN: every rank adds its partial sums; the counts add up too.
template <class Acc>
std::int64_t sum_over_ranks(const nc_collectives* collectives, std::vector<Acc>& a,
                            std::vector<Acc>& b, std::int64_t count) {
  if (collectives == nullptr) return count;
  std::vector<double> buffer = as_doubles(a);
  buffer.insert(buffer.end(), b.begin(), b.end());
  buffer.push_back(double(count));
  allreduce_sum(*collectives, buffer);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = Acc(buffer[i]);
    b[i] = Acc(buffer[a.size() + i]);
  }
  return std::int64_t(buffer.back());
}

// Eval / global stats: mean and 1/sqrt(var + eps) of every group from the
// running statistics of its channel.
template <class Acc>
void running_statistics(const Geometry& g, double eps, const void* running_mean,
                        const void* running_var, std::vector<Acc>& mean, std::vector<Acc>& rstd) {
  const auto running = running_moments_per_group(g, g.stats, running_mean, running_var);
  for (std::size_t k = 0; k < mean.size(); ++k) {
    mean[k] = Acc(running.mean[k]);
    rstd[k] = Acc(1) / std::sqrt(Acc(running.var[k]) + Acc(eps));
  }
}

template <class S>
void forward_typed(const ForwardCall& call) {
  using Acc = compute_t<S>;
  const auto& g = call.geo;
  const auto& p = *call.problem;
  const bool rms = g.op == NC_OP_RMS_NORM;
  const auto groups = std::size_t(g.group_count);

  const S* src = static_cast<const S*>(call.x);
  if (call.residual != nullptr) {
    const S* residual = static_cast<const S*>(call.residual);
    S* out = static_cast<S*>(call.residual_out);
    for (std::int64_t i = 0; i < g.element_count; ++i)
      out[i] = narrow<S>(widen(src[i]) + widen(residual[i]));
    src = out;
  }

  std::vector<Acc> mean(groups, Acc(0)), rstd(groups, Acc(0));
  if (call.running_stats) {
    running_statistics(g, p.eps, call.running_mean, call.running_var, mean, rstd);
  } else {
    std::vector<Acc> sum(groups, Acc(0)), sum_sq(groups, Acc(0));
    for_each_element(g, [&](std::int64_t i, std::int64_t k, std::int64_t) {
      const Acc v = widen(src[i]);
      sum[std::size_t(k)] += v;
      sum_sq[std::size_t(k)] += v * v;
    });
    const std::int64_t count = sum_over_ranks(call.collectives, sum, sum_sq, g.group_size);
    const Acc n = Acc(count);
    std::vector<Acc> var(groups, Acc(0));
    for (std::size_t k = 0; k < groups; ++k) {
      if (rms) {
        rstd[k] = Acc(1) / std::sqrt(sum_sq[k] / n + Acc(p.eps));
        continue;
      }
      mean[k] = sum[k] / n;
      var[k] = sum_sq[k] / n - mean[k] * mean[k];
      if (var[k] < Acc(0)) var[k] = Acc(0);  // cancellation can make it negative
      rstd[k] = Acc(1) / std::sqrt(var[k] + Acc(p.eps));
    }
    store_saved(call, as_doubles(mean), as_doubles(rstd));
    update_running(call, as_doubles(mean), as_doubles(var), count);
  }

  const auto params = param_count(g);
  const auto gamma = param_values<Acc>(g.param, call.gamma, params, Acc(1));
  const auto beta = param_values<Acc>(g.param, call.beta, params, Acc(0));
  S* y = static_cast<S*>(call.y);
  for_each_element(g, [&](std::int64_t i, std::int64_t k, std::int64_t j) {
    const auto kk = std::size_t(k), jj = std::size_t(j);
    y[i] = narrow<S>((widen(src[i]) - mean[kk]) * rstd[kk] * gamma[jj] + beta[jj]);
  });
}

template <class S>
void backward_typed(const BackwardCall& call) {
  using Acc = compute_t<S>;
  const auto& g = call.geo;
  const auto& p = *call.problem;
  const bool rms = g.op == NC_OP_RMS_NORM;
  const auto groups = std::size_t(g.group_count);
  const S* x = static_cast<const S*>(call.x);
  const S* dy = static_cast<const S*>(call.dy);

  std::vector<Acc> mean(groups, Acc(0)), rstd(groups, Acc(0));
  if (call.running_stats) {
    running_statistics(g, p.eps, call.running_mean, call.running_var, mean, rstd);
  } else {
    rstd = as<Acc>(load_values(g.stats, call.saved_rstd, g.group_count));
    if (!rms) mean = as<Acc>(load_values(g.stats, call.saved_mean, g.group_count));
  }

  const auto params = param_count(g);
  const auto gamma = param_values<Acc>(g.param, call.gamma, params, Acc(1));

  // Through the batch statistics: dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
  // with g = gamma * dy, and sum(g * xhat) = rstd * (sum(g * x) - mean * sum(g)).
  std::vector<Acc> mean_g(groups, Acc(0)), mean_g_xhat(groups, Acc(0));
  if (!call.running_stats) {
    std::vector<Acc> sum_g(groups, Acc(0)), sum_gx(groups, Acc(0));
    for_each_element(g, [&](std::int64_t i, std::int64_t k, std::int64_t j) {
      const Acc gdy = gamma[std::size_t(j)] * widen(dy[i]);
      sum_g[std::size_t(k)] += gdy;
      sum_gx[std::size_t(k)] += gdy * widen(x[i]);
    });
    const Acc n = Acc(sum_over_ranks(call.collectives, sum_g, sum_gx, g.group_size));
    for (std::size_t k = 0; k < groups; ++k) {
      mean_g[k] = rms ? Acc(0) : sum_g[k] / n;
      mean_g_xhat[k] = rstd[k] * (sum_gx[k] / n - mean[k] * (sum_g[k] / n));
    }
  }

  std::vector<Acc> dgamma(std::size_t(params), Acc(0)), dbeta(std::size_t(params), Acc(0));
  S* dx = static_cast<S*>(call.dx);
  S* dresidual = static_cast<S*>(call.dresidual);
  for_each_element(g, [&](std::int64_t i, std::int64_t k, std::int64_t j) {
    const auto kk = std::size_t(k), jj = std::size_t(j);
    const Acc d = widen(dy[i]);
    const Acc xhat = (widen(x[i]) - mean[kk]) * rstd[kk];
    dgamma[jj] += d * xhat;
    dbeta[jj] += d;
    const Acc gdy = gamma[jj] * d;
    // With running statistics (eval) dx = rstd * gamma * dy does not depend
    // on x at all: the terms through the batch statistics are left out, not
    // multiplied by zero (0 * xhat is NaN where x is NaN or inf).
    const S out = narrow<S>(call.running_stats
                                ? rstd[kk] * gdy
                                : rstd[kk] * (gdy - mean_g[kk] - xhat * mean_g_xhat[kk]));
    dx[i] = out;
    if (dresidual != nullptr) dresidual[i] = out;
  });
  if (call.dgamma != nullptr) store_values(g.param, call.dgamma, as_doubles(dgamma));
  if (call.dbeta != nullptr) store_values(g.param, call.dbeta, as_doubles(dbeta));
}

}  // namespace

void forward(const ForwardCall& call) {
  visit_dtype(call.geo.data, [&](auto tag) { forward_typed<typename decltype(tag)::type>(call); });
}

void backward(const BackwardCall& call) {
  visit_dtype(call.geo.data, [&](auto tag) { backward_typed<typename decltype(tag)::type>(call); });
}

void conv_bn_fold(const FoldCall& call) {
  if (call.data == DType::f64)
    fold_conv_bn<double>(call);
  else
    fold_conv_bn<float>(call);
}

}  // namespace normcheck::naive
