// Plain double-precision formulas for the device tests to agree with:
// two-pass statistics over the values the tensors hold, no shortcuts. Not
// derived from the kernels (different algorithm, different precision).
#pragma once

#include <cstdint>
#include <vector>

#include "normcheck/numeric/dtype.hpp"

namespace normcheck::cuda::testing {

using numeric::DType;
using Values = std::vector<double>;

struct RowForwardReference {
  Values y, residual_out, mean, rstd;
};

// rows x hidden; residual empty when not fused, otherwise x + residual is
// rounded to `data` first (the tensor residual_out holds). gamma / beta
// empty: 1 / 0.
RowForwardReference row_forward(const Values& x, const Values& residual, DType data,
                                std::int64_t rows, std::int64_t hidden, const Values& gamma,
                                const Values& beta, double eps, bool rms);

struct GradReference {
  Values dx, dgamma, dbeta;
};

// With the statistics the forward saved (mean empty for rms).
GradReference row_backward(const Values& dy, const Values& x, const Values& gamma,
                           const Values& mean, const Values& rstd, std::int64_t rows,
                           std::int64_t hidden, bool rms);

enum class ChannelOp { batch, instance, group };

struct ChannelShape {
  ChannelOp op = ChannelOp::batch;
  std::int64_t n = 1, c = 1, s = 1, groups = 1;  // groups: group norm's G
  bool channels_last = false;

  std::int64_t flat(std::int64_t in, std::int64_t ic, std::int64_t is) const {
    return channels_last ? (in * s + is) * c + ic : (in * c + ic) * s + is;
  }
  std::int64_t group(std::int64_t in, std::int64_t ic) const;
  std::int64_t group_count() const;
  std::int64_t group_size() const;
};

struct RunningUpdate {
  double momentum = 0.1;
  bool paddle = false;   // new = m old + (1 - m) batch
  bool unbiased = true;  // running variance scaled by M / (M - 1)
};

struct ChannelForwardReference {
  Values y, mean, rstd;              // per statistic group
  Values running_mean, running_var;  // after the update (training) or as given
};

// Training (batch statistics; running stats updated when `update`), or
// normalization with the running statistics (`use_running`).
ChannelForwardReference channel_forward(const Values& x, const ChannelShape& shape,
                                        const Values& gamma, const Values& beta, double eps,
                                        bool use_running, const Values& running_mean,
                                        const Values& running_var, bool update,
                                        const RunningUpdate& rule);

// With per-group statistics mean / rstd; `constant_stats` for eval and
// global stats (the statistics do not depend on x).
GradReference channel_backward(const Values& dy, const Values& x, const ChannelShape& shape,
                               const Values& gamma, const Values& mean, const Values& rstd,
                               bool constant_stats);

}  // namespace normcheck::cuda::testing
