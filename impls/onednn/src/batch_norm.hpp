// Batch normalization through oneDNN's batch_normalization primitive:
// training (batch statistics), eval (running statistics) and global stats
// (a training step normalized with the running statistics, which the
// backward treats as constants: oneDNN's use_global_stats), channels-first
// and channels-last layouts of rank 2 to 5, scale and/or shift.
//
// oneDNN computes y, the batch mean and biased variance, and the backward.
// The adapter converts the variance to rstd and back (statistics.hpp), and
// updates the running statistics, which oneDNN leaves alone, from oneDNN's
// batch mean and variance in the problem's convention
// (support::update_running) - so those checks mostly test oneDNN's
// statistics.
#pragma once

#include <optional>
#include <string>

#include "normcheck/support/calls.hpp"

namespace normcheck::onednn {

// Why oneDNN cannot run this batch-norm problem here, or nullopt when it
// can. Asks oneDNN itself: primitive descriptors are created for the
// problem's dtype, layout and flags, and an empty one means no implementation.
std::optional<std::string> batch_norm_unsupported(const nc_problem& p, const support::Geometry& g);

void batch_norm_forward(const support::ForwardCall& call);
void batch_norm_backward(const support::BackwardCall& call);

}  // namespace normcheck::onednn
