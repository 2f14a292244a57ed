#include "normcheck/support/statistics.hpp"

#include <stdexcept>
#include <string>

namespace normcheck::support {

std::vector<double> load_values(DType dtype, const void* data, std::int64_t count) {
  std::vector<double> out(std::size_t(count), 0.0);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = numeric::load(dtype, data, i);
  return out;
}

void store_values(DType dtype, void* data, std::span<const double> values) {
  for (std::size_t i = 0; i < values.size(); ++i) numeric::store(dtype, data, i, values[i]);
}

GroupMoments running_moments_per_group(const Geometry& g, DType stats, const void* running_mean,
                                       const void* running_var) {
  const auto mean = load_values(stats, running_mean, g.channels);
  const auto var = load_values(stats, running_var, g.channels);
  GroupMoments m;
  m.mean.resize(std::size_t(g.group_count));
  m.var.resize(std::size_t(g.group_count));
  // bn: one group per channel; tracked in: group n * C + c reads channel c.
  for (std::int64_t group = 0; group < g.group_count; ++group) {
    const auto c = std::size_t(group % g.channels);
    m.mean[std::size_t(group)] = mean[c];
    m.var[std::size_t(group)] = var[c];
  }
  return m;
}

void store_saved(const ForwardCall& call, std::span<const double> mean,
                 std::span<const double> rstd) {
  if (call.saved_mean != nullptr) store_values(call.geo.stats, call.saved_mean, mean);
  if (call.saved_rstd != nullptr) store_values(call.geo.stats, call.saved_rstd, rstd);
}

void update_running(const ForwardCall& call, std::span<const double> group_mean,
                    std::span<const double> group_var, std::int64_t count) {
  if (!call.update_running) return;
  const auto& g = call.geo;
  const auto& p = *call.problem;
  const double unbiased =
      p.running_var_estimator == NC_VARIANCE_UNBIASED ? double(count) / double(count - 1) : 1.0;
  // Channel c's groups are c, C + c, 2C + c, ... (bn has just the first).
  const std::int64_t groups_per_channel = g.group_count / g.channels;
  std::vector<double> batch_mean(std::size_t(g.channels), 0.0);
  std::vector<double> batch_var(std::size_t(g.channels), 0.0);
  for (std::int64_t group = 0; group < g.group_count; ++group) {
    const auto c = std::size_t(group % g.channels);
    batch_mean[c] += group_mean[std::size_t(group)];
    batch_var[c] += group_var[std::size_t(group)] * unbiased;
  }
  auto running_mean = load_values(g.stats, call.running_mean, g.channels);
  auto running_var = load_values(g.stats, call.running_var, g.channels);
  const double m = p.momentum;
  const bool torch = p.momentum_convention == NC_MOMENTUM_TORCH;
  const double keep = torch ? 1.0 - m : m;  // weight of the old value
  const double take = torch ? m : 1.0 - m;  // weight of the batch value
  for (std::size_t c = 0; c < batch_mean.size(); ++c) {
    running_mean[c] = keep * running_mean[c] + take * (batch_mean[c] / double(groups_per_channel));
    running_var[c] = keep * running_var[c] + take * (batch_var[c] / double(groups_per_channel));
  }
  store_values(g.stats, call.running_mean, running_mean);
  store_values(g.stats, call.running_var, running_var);
}

void allreduce_sum(const nc_collectives& collectives, std::span<double> values) {
  const int rc = collectives.allreduce_sum_f64(collectives.context, values.data(),
                                               std::int64_t(values.size()));
  if (rc != 0)
    throw std::runtime_error("collectives: allreduce_sum_f64 failed with " + std::to_string(rc));
}

}  // namespace normcheck::support
