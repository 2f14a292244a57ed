// A deliberately broken SyncBatchNorm plugin for the harness's own tests:
// it combines the ranks' statistics as if every rank held the same number
// of samples, a bug real implementations have shipped. Each rank
// all-reduces its local mean and local mean of squares and divides by the
// number of ranks, so a shard of 1 sample weighs as much as a shard of 5;
// the running variance is made unbiased with local count * ranks; the
// backward averages the ranks' mean(dy) and mean(dy * xhat) the same way.
// With equal shards every one of these is exactly right (and computed in
// double, two-pass, well within the error bound); with unequal shards the
// mean, the variance and everything after them are wrong. run-mpi must
// fail the unequal-shard cases and pass the equal ones.
#include <cmath>
#include <vector>

#include "normcheck/support/backend_table.hpp"
#include "normcheck/support/element_map.hpp"
#include "normcheck/support/statistics.hpp"

namespace {

using namespace normcheck::support;
using normcheck::numeric::load;
using normcheck::numeric::store;

// Sums `values` over the ranks and divides by their number: the bug.
void average_over_ranks(const nc_collectives* collectives, std::vector<double>& values) {
  if (collectives == nullptr) return;
  allreduce_sum(*collectives, values);
  for (auto& v : values) v /= double(collectives->size);
}

struct Kernels {
  static constexpr const char* name = "syncbn_unweighted";
  static constexpr const char* version = "test";

  static void forward(const ForwardCall& call) {
    const Geometry& g = call.geo;
    if (g.op != NC_OP_BATCH_NORM || call.running_stats)
      throw Unsupported("syncbn_unweighted: batch_norm training only");
    const auto C = std::size_t(g.channels);
    const double n = double(g.group_size);
    std::vector<double> mean(C, 0.0), m2(C, 0.0);
    for_each_element(g, [&](std::int64_t i, std::int64_t c, std::int64_t) {
      mean[std::size_t(c)] += load(g.data, call.x, std::size_t(i));
    });
    for (auto& m : mean) m /= n;
    for_each_element(g, [&](std::int64_t i, std::int64_t c, std::int64_t) {
      const double d = load(g.data, call.x, std::size_t(i)) - mean[std::size_t(c)];
      m2[std::size_t(c)] += d * d;
    });
    // Local mean and E[x^2] side by side, averaged over the ranks unweighted.
    std::vector<double> moments(2 * C);
    for (std::size_t c = 0; c < C; ++c) {
      moments[c] = mean[c];
      moments[C + c] = m2[c] / n + mean[c] * mean[c];
    }
    average_over_ranks(call.collectives, moments);
    const int ranks = call.collectives != nullptr ? call.collectives->size : 1;
    std::vector<double> var(C), rstd(C);
    for (std::size_t c = 0; c < C; ++c) {
      mean[c] = moments[c];
      var[c] = std::max(0.0, moments[C + c] - mean[c] * mean[c]);
      rstd[c] = 1.0 / std::sqrt(var[c] + call.problem->eps);
    }
    store_saved(call, mean, rstd);
    update_running(call, mean, var, g.group_size * ranks);
    const auto gamma = param_values<double>(g.param, call.gamma, g.channels, 1.0);
    const auto beta = param_values<double>(g.param, call.beta, g.channels, 0.0);
    for_each_element(g, [&](std::int64_t i, std::int64_t c, std::int64_t) {
      const auto k = std::size_t(c);
      const double xhat = (load(g.data, call.x, std::size_t(i)) - mean[k]) * rstd[k];
      store(g.data, call.y, std::size_t(i), xhat * gamma[k] + beta[k]);
    });
  }

  static void backward(const BackwardCall& call) {
    const Geometry& g = call.geo;
    if (g.op != NC_OP_BATCH_NORM || call.running_stats)
      throw Unsupported("syncbn_unweighted: batch_norm training only");
    const auto C = std::size_t(g.channels);
    const auto mean = load_values(g.stats, call.saved_mean, g.channels);
    const auto rstd = load_values(g.stats, call.saved_rstd, g.channels);
    const auto gamma = param_values<double>(g.param, call.gamma, g.channels, 1.0);
    const auto xhat = [&](std::int64_t i, std::size_t c) {
      return (load(g.data, call.x, std::size_t(i)) - mean[c]) * rstd[c];
    };
    std::vector<double> sums(2 * C, 0.0);  // sum(dy), sum(dy * xhat) of this rank
    for_each_element(g, [&](std::int64_t i, std::int64_t c, std::int64_t) {
      const double dy = load(g.data, call.dy, std::size_t(i));
      sums[std::size_t(c)] += dy;
      sums[C + std::size_t(c)] += dy * xhat(i, std::size_t(c));
    });
    // dgamma/dbeta: this rank's contributions (summed by the gradient all-reduce).
    if (call.dbeta != nullptr)
      store_values(g.param, call.dbeta, std::vector<double>(sums.begin(), sums.begin() + long(C)));
    if (call.dgamma != nullptr)
      store_values(g.param, call.dgamma, std::vector<double>(sums.begin() + long(C), sums.end()));
    std::vector<double> means(sums);
    for (auto& m : means) m /= double(g.group_size);
    average_over_ranks(call.collectives, means);
    for_each_element(g, [&](std::int64_t i, std::int64_t c, std::int64_t) {
      const auto k = std::size_t(c);
      const double dy = load(g.data, call.dy, std::size_t(i));
      store(g.data, call.dx, std::size_t(i),
            gamma[k] * rstd[k] * (dy - means[k] - xhat(i, k) * means[C + k]));
    });
  }

  static void conv_bn_fold(const FoldCall&) {
    throw Unsupported("syncbn_unweighted: batch_norm training only");
  }
};

}  // namespace

NC_BACKEND_EXPORT const nc_backend_v1* normcheck_backend_v1(void) {
  return &BackendTable<Kernels>::table;
}
