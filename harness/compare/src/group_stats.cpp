#include "normcheck/compare/group_stats.hpp"

#include <cmath>

namespace normcheck::compare {

namespace {

GroupStats sized(std::int64_t groups) {
  const auto n = std::size_t(groups);
  GroupStats s;
  s.mean.assign(n, 0.0);
  s.rstd.assign(n, 0.0);
  s.sigma.assign(n, 0.0);
  s.max_abs.assign(n, 0.0);
  s.kappa.assign(n, 0.0);
  return s;
}

void fill_max_abs(const model::ElementMap& map, std::span<const double> h, GroupStats& s) {
  for (std::int64_t i = 0; i < map.elements(); ++i) {
    auto& m = s.max_abs[std::size_t(map.group_of(i))];
    const double a = std::fabs(h[std::size_t(i)]);
    // NaN propagates on purpose: a group holding a NaN has no finite bound.
    if (!(a <= m)) m = a;
  }
}

}  // namespace

GroupStats batch_group_stats(const model::ElementMap& map, std::span<const double> h, double eps,
                             bool rms) {
  const std::int64_t groups = map.groups();
  GroupStats s = sized(groups);
  std::vector<long double> sum(std::size_t(groups), 0.0L), sq(std::size_t(groups), 0.0L);
  for (std::int64_t i = 0; i < map.elements(); ++i)
    sum[std::size_t(map.group_of(i))] += h[std::size_t(i)];
  const long double n = static_cast<long double>(map.group_size());
  std::vector<long double> mean(std::size_t(groups), 0.0L);
  if (!rms)
    for (std::size_t g = 0; g < mean.size(); ++g) mean[g] = sum[g] / n;
  for (std::int64_t i = 0; i < map.elements(); ++i) {
    const auto g = std::size_t(map.group_of(i));
    const long double d = h[std::size_t(i)] - mean[g];
    sq[g] += d * d;
  }
  fill_max_abs(map, h, s);
  for (std::size_t g = 0; g < mean.size(); ++g) {
    const long double var = sq[g] / n;
    s.mean[g] = double(mean[g]);
    s.rstd[g] = double(1.0L / std::sqrt(var + static_cast<long double>(eps)));
    s.sigma[g] = rms ? 0.0 : double(std::sqrt(var));
    s.kappa[g] = s.max_abs[g] * s.rstd[g];
  }
  return s;
}

GroupStats running_group_stats(const model::ElementMap& map, std::span<const double> h,
                               std::span<const double> running_mean,
                               std::span<const double> running_var, double eps) {
  GroupStats s = sized(map.groups());
  fill_max_abs(map, h, s);
  for (std::size_t g = 0; g < s.mean.size(); ++g) {
    const auto c = std::size_t(map.channel_of_group(std::int64_t(g)));
    s.mean[g] = running_mean[c];
    s.rstd[g] = double(1.0L / std::sqrt(static_cast<long double>(running_var[c]) + eps));
    s.kappa[g] = s.max_abs[g] * s.rstd[g];
  }
  return s;
}

}  // namespace normcheck::compare
