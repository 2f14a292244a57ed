// The CUDA backend's operations on device pointers: what the plugin calls
// after staging the ABI's tensors, and what the benchmark times directly.
// Every pointer is device memory (or NULL where optional); every launch goes
// to `stream` and nothing here synchronizes. `workspace` is device memory of
// at least the size the matching *_workspace_bytes() returns.
// Throws CudaError when a launch fails.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "normcheck/cuda/plan.hpp"

namespace normcheck::cuda {

struct RowNormForwardArgs {
  const void* x = nullptr;
  const void* residual = nullptr;  // plan.residual
  const void* gamma = nullptr;     // plan.scale
  const void* beta = nullptr;      // plan.shift
  void* y = nullptr;
  void* residual_out = nullptr;  // optional: x + residual, rounded to the data dtype
  void* mean = nullptr;          // optional (layer norm only), one per row, stats dtype
  void* rstd = nullptr;          // optional, one per row, stats dtype
};

struct RowNormBackwardArgs {
  const void* dy = nullptr;
  const void* x = nullptr;  // the normalized input (residual_out when fused)
  const void* gamma = nullptr;
  const void* mean = nullptr;  // layer norm: saved mean
  const void* rstd = nullptr;
  void* dx = nullptr;         // optional
  void* dresidual = nullptr;  // optional: a second copy of dx
  void* dgamma = nullptr;     // optional
  void* dbeta = nullptr;      // optional
};

struct ChannelNormForwardArgs {
  const void* x = nullptr;
  const void* gamma = nullptr;
  const void* beta = nullptr;
  void* running_mean = nullptr;  // read (eval / global stats) or updated (training)
  void* running_var = nullptr;
  void* y = nullptr;
  void* saved_mean = nullptr;  // optional, per statistic group
  void* saved_rstd = nullptr;  // optional
};

struct ChannelNormBackwardArgs {
  const void* dy = nullptr;
  const void* x = nullptr;
  const void* gamma = nullptr;
  const void* saved_mean = nullptr;  // batch statistics
  const void* saved_rstd = nullptr;
  const void* running_mean = nullptr;  // eval / global stats
  const void* running_var = nullptr;
  void* dx = nullptr;  // optional
  void* dgamma = nullptr;
  void* dbeta = nullptr;
};

// The vectorized kernels are chosen when every pointer a kernel reads or
// writes with vectors is aligned to its vector; the choice never depends on
// the row or batch count.
std::size_t row_norm_forward_workspace(const RowNormPlan& plan);
void row_norm_forward(const RowNormPlan& plan, const RowNormForwardArgs& args, void* workspace,
                      cudaStream_t stream);

std::size_t row_norm_backward_workspace(const RowNormPlan& plan);
void row_norm_backward(const RowNormPlan& plan, const RowNormBackwardArgs& args, void* workspace,
                       cudaStream_t stream);

std::size_t channel_norm_forward_workspace(const ChannelNormPlan& plan);
void channel_norm_forward(const ChannelNormPlan& plan, const ChannelNormForwardArgs& args,
                          void* workspace, cudaStream_t stream);

std::size_t channel_norm_backward_workspace(const ChannelNormPlan& plan);
void channel_norm_backward(const ChannelNormPlan& plan, const ChannelNormBackwardArgs& args,
                           void* workspace, cudaStream_t stream);

}  // namespace normcheck::cuda
