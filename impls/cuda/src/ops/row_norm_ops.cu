// Host side of layer/rms norm: picks the kernel for the row length (see
// RowConfig in plan.hpp) and launches it.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

#include "../common/cuda_check.hpp"
#include "../kernels/row_norm_kernels.cuh"
#include "normcheck/cuda/ops.hpp"
#include "workspace.hpp"

namespace normcheck::cuda {

namespace {

using device::acc_t;

// Calls f.template operator()<T, P>() for the plan's data and param dtypes
// (the pairings make_plan accepts).
template <class F>
void with_row_types(const RowNormPlan& plan, F&& f) {
  switch (plan.data) {
    case DType::f64:
      return f.template operator()<double, double>();
    case DType::f32:
      return f.template operator()<float, float>();
    case DType::f16:
      if (plan.param == DType::f32) return f.template operator()<__half, float>();
      return f.template operator()<__half, __half>();
    case DType::bf16:
      if (plan.param == DType::f32) return f.template operator()<__nv_bfloat16, float>();
      return f.template operator()<__nv_bfloat16, __nv_bfloat16>();
  }
}

// 32-bit words per thread per row array: the limits of RowConfig.
template <class T>
constexpr int words_per_element = sizeof(T) == 8 ? 2 : 1;

template <class T, class P, int K>
void launch_forward_cached(const device::RowForwardParams& p, int threads, cudaStream_t stream) {
  constexpr int V = int(16 / sizeof(T));
  if constexpr (K * V * words_per_element<T> <= 32) {
    device::row_forward_cached<T, P, V, K><<<unsigned(p.rows), unsigned(threads), 0, stream>>>(p);
  } else {
    throw CudaError("internal: no cached forward kernel for this row configuration");
  }
}

template <class T, class P, int K>
void launch_backward_cached(const device::RowBackwardParams& p, unsigned grid, int threads,
                            cudaStream_t stream) {
  constexpr int V = int(16 / sizeof(T));
  if constexpr (K * V * words_per_element<T> <= 16) {
    device::row_backward_cached<T, P, V, K><<<grid, unsigned(threads), 0, stream>>>(p);
  } else {
    throw CudaError("internal: no cached backward kernel for this row configuration");
  }
}

// Dynamic shared memory a block may opt in to on the current device, less
// what the kernels declare statically.
std::size_t max_dynamic_smem() {
  int device = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  int bytes = 0;
  check_cuda(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
             "cudaDeviceGetAttribute(MaxSharedMemoryPerBlockOptin)");
  return bytes > 1024 ? std::size_t(bytes) - 1024 : 0;
}

template <class T, class P>
void forward_typed(const RowNormPlan& plan, const RowNormForwardArgs& a, cudaStream_t stream) {
  constexpr int V = int(16 / sizeof(T));
  const bool aligned = aligned_to(a.x, 16) && aligned_to(a.residual, 16) && aligned_to(a.y, 16) &&
                       aligned_to(a.residual_out, 16) && aligned_to(a.gamma, sizeof(P) * V) &&
                       aligned_to(a.beta, sizeof(P) * V);
  const RowConfig cfg = row_forward_config(plan.hidden, plan.data, aligned);
  device::RowForwardParams p{};
  p.x = a.x;
  p.residual = plan.residual ? a.residual : nullptr;
  p.gamma = plan.scale ? a.gamma : nullptr;
  p.beta = plan.shift ? a.beta : nullptr;
  p.y = a.y;
  p.residual_out = plan.residual ? a.residual_out : nullptr;
  p.mean = plan.rms ? nullptr : a.mean;
  p.rstd = a.rstd;
  p.rows = plan.rows;
  p.hidden = plan.hidden;
  p.eps = plan.eps;
  p.stats = plan.stats;
  p.rms = plan.rms;
  if (cfg.cached) {
    switch (cfg.vecs_per_thread) {
      case 1:
        launch_forward_cached<T, P, 1>(p, cfg.threads, stream);
        break;
      case 2:
        launch_forward_cached<T, P, 2>(p, cfg.threads, stream);
        break;
      case 4:
        launch_forward_cached<T, P, 4>(p, cfg.threads, stream);
        break;
      case 8:
        launch_forward_cached<T, P, 8>(p, cfg.threads, stream);
        break;
      default:
        throw CudaError("internal: unexpected vectors per thread");
    }
  } else {
    const std::size_t row_bytes = std::size_t(plan.hidden) * sizeof(T);
    const bool cache = row_bytes <= max_dynamic_smem();
    auto* kernel = device::row_forward_generic<T, P>;
    if (cache)
      check_cuda(
          cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(row_bytes)),
          "cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
    kernel<<<unsigned(plan.rows), unsigned(cfg.threads), cache ? row_bytes : 0, stream>>>(p, cache);
  }
  check_cuda(cudaGetLastError(), "row_norm_forward kernel launch");
}

template <class A>
struct ParamPartials {
  A* dgamma = nullptr;
  A* dbeta = nullptr;
};

template <class A>
ParamPartials<A> carve_param_partials(WorkspaceCarver& w, const RowNormPlan& plan) {
  const std::int64_t n = row_param_parts(plan.rows, plan.hidden) * plan.hidden;
  ParamPartials<A> r;
  r.dgamma = w.take<A>(n);
  r.dbeta = w.take<A>(n);
  return r;
}

template <class T, class P>
void backward_typed(const RowNormPlan& plan, const RowNormBackwardArgs& a, void* workspace,
                    cudaStream_t stream) {
  using A = acc_t<T>;
  constexpr int V = int(16 / sizeof(T));
  const std::int64_t parts = row_param_parts(plan.rows, plan.hidden);
  const bool want_params = a.dgamma != nullptr || a.dbeta != nullptr;
  WorkspaceCarver carver(workspace);
  const ParamPartials<A> partials = carve_param_partials<A>(carver, plan);

  device::RowBackwardParams p{};
  p.dy = a.dy;
  p.x = a.x;
  p.gamma = plan.scale ? a.gamma : nullptr;
  p.mean = plan.rms ? nullptr : a.mean;
  p.rstd = a.rstd;
  p.dx = a.dx;
  p.dresidual = a.dresidual == a.dx ? nullptr : a.dresidual;
  if (want_params) {
    if constexpr (sizeof(A) == 8) {
      p.partial_dgamma_f64 = partials.dgamma;
      p.partial_dbeta_f64 = partials.dbeta;
    } else {
      p.partial_dgamma = partials.dgamma;
      p.partial_dbeta = partials.dbeta;
    }
  }
  p.rows = plan.rows;
  p.hidden = plan.hidden;
  p.stats = plan.stats;
  p.rms = plan.rms;

  const bool aligned = aligned_to(a.x, 16) && aligned_to(a.dy, 16) && aligned_to(a.dx, 16) &&
                       aligned_to(p.dresidual, 16) && aligned_to(p.gamma, sizeof(P) * V);
  const RowConfig cfg = row_backward_config(plan.hidden, plan.data, aligned);
  if (cfg.cached) {
    const auto grid = unsigned(parts);
    switch (cfg.vecs_per_thread) {
      case 1:
        launch_backward_cached<T, P, 1>(p, grid, cfg.threads, stream);
        break;
      case 2:
        launch_backward_cached<T, P, 2>(p, grid, cfg.threads, stream);
        break;
      case 4:
        launch_backward_cached<T, P, 4>(p, grid, cfg.threads, stream);
        break;
      default:
        throw CudaError("internal: unexpected vectors per thread");
    }
  } else {
    if (a.dx != nullptr || p.dresidual != nullptr)
      device::row_backward_generic<T, P>
          <<<unsigned(plan.rows), unsigned(cfg.threads), 0, stream>>>(p);
    if (want_params) {
      const dim3 grid(unsigned((plan.hidden + 31) / 32), unsigned(parts));
      device::row_param_partials<T><<<grid, dim3(32, 8), 0, stream>>>(p, parts);
    }
  }
  if (want_params) {
    device::reduce_param_partials<A>
        <<<unsigned((plan.hidden + 31) / 32), dim3(32, device::kPartialSumRows), 0, stream>>>(
        partials.dgamma, partials.dbeta, parts, plan.hidden, a.dgamma, a.dbeta, plan.param);
  }
  check_cuda(cudaGetLastError(), "row_norm_backward kernel launch");
}

}  // namespace

std::size_t row_norm_forward_workspace(const RowNormPlan&) {
  return 0;
}

void row_norm_forward(const RowNormPlan& plan, const RowNormForwardArgs& args, void*,
                      cudaStream_t stream) {
  with_row_types(plan, [&]<class T, class P>() { forward_typed<T, P>(plan, args, stream); });
}

std::size_t row_norm_backward_workspace(const RowNormPlan& plan) {
  WorkspaceCarver carver(nullptr);
  with_row_types(plan, [&]<class T, class P>() { carve_param_partials<acc_t<T>>(carver, plan); });
  return carver.bytes();
}

void row_norm_backward(const RowNormPlan& plan, const RowNormBackwardArgs& args, void* workspace,
                       cudaStream_t stream) {
  with_row_types(plan,
                 [&]<class T, class P>() { backward_typed<T, P>(plan, args, workspace, stream); });
}

}  // namespace normcheck::cuda
