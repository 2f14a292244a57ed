// The inputs and outputs of one problem for timing calls through the ABI:
// `normcheck bench` and build/bench/nc_interleaved_ab fill them alike.
#pragma once

#include "bench_tensor.hpp"
#include "normcheck/backend.h"
#include "normcheck/model/problem.hpp"

namespace normcheck::bench {

// The tensors of one problem, shared by every backend and both directions.
struct Buffers {
  BenchTensor x, gamma, beta, running_mean, running_var, y, saved_mean, saved_rstd;
  BenchTensor dy, dx, dgamma, dbeta;
  nc_forward_args forward{};
  nc_backward_args backward{};

  explicit Buffers(const model::Problem& p);
};

}  // namespace normcheck::bench
