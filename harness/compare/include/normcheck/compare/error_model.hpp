// The documented error bound of a correct kernel, per element of every
// golden tensor of a case (reports/README.md derives each formula).
//
// A bound has three kinds of terms:
//   - rounding the result to the output dtype: u_out * |golden|;
//   - the reduction in the accumulation dtype: u_acc * reduction_factor(n)
//     times the magnitudes summed;
//   - conditioning: a correct kernel forms h - mean with the mean (or
//     running mean) off by about u_acc * max|h|, so its normalized value is
//     off by about u_acc * kappa, kappa = max|h| * rstd of the group.
// A kernel whose variance comes from E[h^2] - E[h]^2 errs by u_acc * kappa^2
// instead, which exceeds the bound by a factor of about kappa: on a large
// offset (kappa ~ 1e4 in f32) that is thousands of times the bound.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/compare/check_table.hpp"
#include "normcheck/model/element_map.hpp"
#include "normcheck/compare/group_stats.hpp"
#include "normcheck/fixture/case.hpp"

namespace normcheck::compare {

// The statistic group of an element, as printed beside the worst element.
struct GroupContext {
  std::int64_t group = -1;
  double mean = 0.0, rstd = 0.0, kappa = 0.0;
};

class ErrorModel {
 public:
  explicit ErrorModel(const fixture::Case& c);

  // Per-element bound of golden tensor `name`: the bound function of the
  // check that owns that golden (check_table.hpp). InputError for a tensor
  // the case does not hold or that no check bounds.
  std::vector<double> bound(std::string_view name) const;

  // The bound functions of the check table, one per golden a backend's
  // output is compared with (`step`: training step of per-step goldens).
  std::vector<double> y_bound(std::span<const double> y, int step) const;
  std::vector<double> residual_out_bound(std::span<const double> r, int step) const;
  std::vector<double> saved_mean_bound(std::span<const double> mean, int step) const;
  std::vector<double> saved_rstd_bound(std::span<const double> rstd, int step) const;
  std::vector<double> dx_bound(std::span<const double> dx, int step) const;
  std::vector<double> dgamma_bound(std::span<const double> dgamma, int step) const;
  std::vector<double> dbeta_bound(std::span<const double> dbeta, int step) const;
  std::vector<double> running_mean_bound(std::span<const double> mean, int step) const;
  std::vector<double> running_var_bound(std::span<const double> var, int step) const;
  std::vector<double> eval_y_bound(std::span<const double> y, int step) const;
  std::vector<double> folded_weight_bound(std::span<const double> w, int step) const;
  std::vector<double> folded_bias_bound(std::span<const double> b, int step) const;

  // Bound of conv(x, W') + b' computed by the harness from a backend's
  // folded parameters, against golden conv_bn_y: the folded parameters'
  // own bounds propagated through the convolution, plus the harness's
  // double arithmetic (products of data-dtype values are exact in double;
  // the K-term sums err by at most K * u_f64 * sum|x * W'|).
  struct ConvResult {
    std::vector<double> y, bound;
  };
  ConvResult folded_conv(std::span<const double> folded_weight,
                         std::span<const double> folded_bias) const;

  // The dtype a backend writes the output compared with golden `name` in
  // (its role in the check table).
  numeric::DType dtype_of(std::string_view name) const;

  // The group of element `flat` of tensor `name`; nullopt for per-parameter
  // tensors (dgamma, dbeta, folded_*) and conv outputs.
  std::optional<GroupContext> context(std::string_view name, std::int64_t flat) const;

  // Largest kappa over the groups of the case's main batch (0 for cbn).
  double max_kappa() const;

 private:
  struct Units;
  std::vector<double> forward_bound(const GroupStats& s, std::span<const double> h,
                                    std::span<const double> y, bool from_running) const;
  void running_bounds() const;  // fills running_mean_bounds_ / running_var_bounds_
  const std::vector<double>& running_step(const std::vector<std::vector<double>>& bounds,
                                          int step) const;

  const std::vector<double>& golden(std::string_view name) const;
  const std::vector<double>& input(std::string_view name) const;  // empty when absent
  const model::ElementMap& map() const;  // InputError for conv_bn
  double gamma_at(std::int64_t param) const;
  double beta_at(std::int64_t param) const;
  // Per-element error of the normalized value x-hat (see reports/README.md).
  double xhat_error(const GroupStats& s, std::int64_t group, double h, bool from_running) const;

  model::Problem problem_;
  std::map<std::string, std::vector<double>, std::less<>> inputs_, golden_;
  std::vector<double> h_;  // x, or x + residual
  std::optional<model::ElementMap> map_;
  GroupStats stats_;  // of the main batch, with the statistics that normalize it
  bool from_running_ = false;
  mutable std::vector<std::vector<double>> running_mean_bounds_, running_var_bounds_;
};

}  // namespace normcheck::compare
