// The textbook kernels: one sequential loop per statistic in the storage
// dtype's usual accumulation type, single-pass E[x^2] - E[x]^2 variance and
// uncentred backward sums. Deliberately fragile (see impls/README.md): large
// offsets cancel catastrophically in f32. Single-threaded.
#pragma once

#include "normcheck/support/calls.hpp"

namespace normcheck::naive {

void forward(const support::ForwardCall& call);
void backward(const support::BackwardCall& call);
void conv_bn_fold(const support::FoldCall& call);

}  // namespace normcheck::naive
