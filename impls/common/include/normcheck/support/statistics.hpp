// The per-group bookkeeping both built-in backends share once a kernel has
// its statistics: loading parameters and running statistics, storing saved
// statistics, and the running-statistics update. These touch C or N*G
// values, never the data, so they work in double with exact conversions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "normcheck/support/calls.hpp"

namespace normcheck::support {

std::vector<double> load_values(DType dtype, const void* data, std::int64_t count);
void store_values(DType dtype, void* data, std::span<const double> values);

// gamma or beta widened to T, or `absent` repeated when the tensor is absent.
template <class T>
std::vector<T> param_values(DType dtype, const void* data, std::int64_t count, T absent) {
  std::vector<T> out(std::size_t(count), absent);
  if (data == nullptr) return out;
  const auto values = load_values(dtype, data, count);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = T(values[i]);
  return out;
}

// Running statistics spread over the statistic groups (bn: per channel; in:
// each (n, c) takes channel c's).
struct GroupMoments {
  std::vector<double> mean, var;
};
GroupMoments running_moments_per_group(const Geometry& g, DType stats, const void* running_mean,
                                       const void* running_var);

// Writes saved_mean (unless absent or rms_norm) and saved_rstd.
void store_saved(const ForwardCall& call, std::span<const double> mean,
                 std::span<const double> rstd);

// The training update of running_mean/running_var from the per-group batch
// mean and biased variance. `count` is the number of elements behind one
// group variance (bn: N * spatial over all ranks; in: spatial); the unbiased
// estimator scales by count / (count - 1). Instance norm averages the
// per-instance mean and (estimator-adjusted) variance over the batch first,
// as PyTorch does.
void update_running(const ForwardCall& call, std::span<const double> group_mean,
                    std::span<const double> group_var, std::int64_t count);

// Sums `values` over the ranks of a distributed call in place (SyncBN).
void allreduce_sum(const nc_collectives& collectives, std::span<double> values);

}  // namespace normcheck::support
