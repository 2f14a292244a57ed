// Layer normalization through oneDNN's layer_normalization primitive over
// the trailing dims shape[axis:] (collapsed into one, see descriptors.hpp),
// with scale and/or shift. The fused residual is composed: oneDNN's binary
// add writes residual_out = x + residual in the data dtype, and
// layer_normalization normalizes that; the backward's dresidual is dx.
//
// oneDNN returns the mean and biased variance per row; the adapter converts
// the variance to rstd and back (statistics.hpp).
#pragma once

#include <optional>
#include <string>

#include "normcheck/support/calls.hpp"

namespace normcheck::onednn {

// Why oneDNN cannot run this layer-norm problem here, or nullopt when it
// can; asks oneDNN for primitive descriptors of the problem's dtypes.
std::optional<std::string> layer_norm_unsupported(const nc_problem& p, const support::Geometry& g);

void layer_norm_forward(const support::ForwardCall& call);
void layer_norm_backward(const support::BackwardCall& call);

}  // namespace normcheck::onednn
