// Conv-BN folding, W' = W * s and b' = (b - running_mean) * s + beta with
// s = gamma / sqrt(running_var + eps), computed in T: the naive backend
// folds in its accumulation type, the cpu backend in double (one rounding
// per output).
#pragma once

#include <cmath>
#include <cstdint>

#include "normcheck/support/calls.hpp"
#include "normcheck/support/statistics.hpp"

namespace normcheck::support {

template <class T>
void fold_conv_bn(const FoldCall& c) {
  const auto oc = c.out_channels;
  const auto gamma = param_values<T>(c.param, c.gamma, oc, T(1));
  const auto beta = param_values<T>(c.param, c.beta, oc, T(0));
  const auto bias = param_values<T>(c.data, c.bias, oc, T(0));
  const auto mean = param_values<T>(c.stats, c.running_mean, oc, T(0));
  const auto var = param_values<T>(c.stats, c.running_var, oc, T(1));
  for (std::int64_t o = 0; o < oc; ++o) {
    const auto i = std::size_t(o);
    const T scale = gamma[i] / std::sqrt(var[i] + T(c.eps));
    for (std::int64_t k = 0; k < c.weights_per_channel; ++k) {
      const auto index = std::size_t(o * c.weights_per_channel + k);
      const T w = T(numeric::load(c.data, c.weight, index));
      numeric::store(c.data, c.folded_weight, index, double(w * scale));
    }
    numeric::store(c.data, c.folded_bias, i, double((bias[i] - mean[i]) * scale + beta[i]));
  }
}

}  // namespace normcheck::support
