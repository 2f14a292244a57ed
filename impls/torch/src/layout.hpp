// How a problem's memory-order shape becomes the logical tensor ATen
// expects. Channel ops: ATen's dims are (N, C, spatial...); a channels-last
// buffer (N, spatial..., C) is described by strides, which ATen's kernels
// honour (their channels-last paths, or a copy they make themselves).
// Row ops: the problem shape as is, normalized over shape[axis:].
#pragma once

#include <cstdint>
#include <vector>

#include "normcheck/support/calls.hpp"

namespace normcheck::torch_adapter {

struct LogicalView {
  std::vector<std::int64_t> sizes;    // (N, C, spatial...) for channel ops
  std::vector<std::int64_t> strides;  // element strides into the buffer
};

LogicalView logical_view(const support::Geometry& g);

// ln/rms: shape[axis:], the normalized_shape of at::native_layer_norm.
std::vector<std::int64_t> normalized_shape(const support::Geometry& g);

// dresidual = dx for the fused residual (when given and not dx itself).
void copy_dresidual(const support::BackwardCall& c);

}  // namespace normcheck::torch_adapter
