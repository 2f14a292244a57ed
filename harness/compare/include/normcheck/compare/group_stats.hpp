// Statistics of every statistic group of one batch, computed by the harness
// in extended precision (long double, two passes) from the exact inputs. The
// error model needs them only to about one significant digit, so these
// never need certification; they are also the context printed beside the
// worst element of a check.
#pragma once

#include <span>
#include <vector>

#include "normcheck/model/element_map.hpp"

namespace normcheck::compare {

struct GroupStats {
  std::vector<double> mean;     // what is subtracted: batch mean, running mean (eval), 0 (rms)
  std::vector<double> rstd;     // 1 / sqrt(var + eps) of whatever normalizes
  std::vector<double> sigma;    // sqrt of the biased batch variance (0 for rms, and in eval)
  std::vector<double> max_abs;  // max |h| over the group
  // max|h| * rstd: a kernel that forms h - mean (or the statistics) in
  // precision u errs by about u * kappa in the normalized value (the
  // reference's definition, reference/include/.../normalization.hpp).
  std::vector<double> kappa;
};

// Batch statistics of h (x, or x + residual). rms: mean 0, rstd from mean(h^2).
GroupStats batch_group_stats(const model::ElementMap& map, std::span<const double> h, double eps,
                             bool rms);

// Eval / use_global_stats: group g normalizes with running statistics of its
// channel; sigma is 0 (no reduction happens).
GroupStats running_group_stats(const model::ElementMap& map, std::span<const double> h,
                               std::span<const double> running_mean,
                               std::span<const double> running_var, double eps);

}  // namespace normcheck::compare
