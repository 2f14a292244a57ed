// Host side of batch / instance / group norm: the stage-one partial
// kernel for the layout (run or column view, see ChannelPartialLayout),
// the per-group merge, and the elementwise pass.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

#include "../common/cuda_check.hpp"
#include "../kernels/channel_norm_kernels.cuh"
#include "normcheck/cuda/ops.hpp"
#include "workspace.hpp"

namespace normcheck::cuda {

namespace {

using device::acc_t;
using device::Partials;

template <class F>
void with_data_type(DType t, F&& f) {
  switch (t) {
    case DType::f64:
      return f.template operator()<double>();
    case DType::f32:
      return f.template operator()<float>();
    case DType::f16:
      return f.template operator()<__half>();
    case DType::bf16:
      return f.template operator()<__nv_bfloat16>();
  }
}

unsigned blocks_for(std::int64_t count, int per_block) {
  // Grid-stride kernels take any count; 2^20 blocks of 256 threads already
  // cover far more than a GPU holds at once.
  return unsigned(
      std::clamp<std::int64_t>((count + per_block - 1) / per_block, 1, std::int64_t(1) << 20));
}

// The workspace of one call, carved in a fixed order.
template <class A>
struct ChannelWorkspace {
  A* gamma = nullptr;  // per channel, 1 when absent
  A* beta = nullptr;   // per channel, 0 when absent (forward only)
  A* group_mean = nullptr;
  A* group_rstd = nullptr;
  A* ca = nullptr;  // backward coefficients per group
  A* cb = nullptr;
  Partials<A> partials{nullptr, nullptr, nullptr};
  double* instance_mean = nullptr;  // tracked instance norm, training
  double* instance_var = nullptr;
};

template <class A>
ChannelWorkspace<A> carve(WorkspaceCarver& w, const ChannelNormPlan& plan, bool backward) {
  const ChannelPartialLayout layout = channel_partial_layout(plan);
  const std::int64_t groups = plan.stat_groups();
  ChannelWorkspace<A> ws;
  ws.gamma = w.take<A>(plan.c);
  if (!backward) ws.beta = w.take<A>(plan.c);
  ws.group_mean = w.take<A>(groups);
  ws.group_rstd = w.take<A>(groups);
  if (backward) {
    ws.ca = w.take<A>(groups);
    ws.cb = w.take<A>(groups);
  }
  const bool partials = backward || !plan.stats_from_running();
  if (partials) {
    ws.partials.a = w.take<A>(layout.entries());
    ws.partials.b = w.take<A>(layout.entries());
    if (!backward) ws.partials.c = w.take<A>(layout.entries());
  }
  if (!backward && plan.op == ChannelOp::instance && plan.updates_running_stats()) {
    ws.instance_mean = w.take<double>(groups);
    ws.instance_var = w.take<double>(groups);
  }
  return ws;
}

device::GroupMap group_map(const ChannelNormPlan& plan, const ChannelPartialLayout& l) {
  device::GroupMap m{};
  m.segments = l.segments;
  m.channels = plan.c;
  m.parts = l.parts;
  m.n_stride = l.n_stride;
  m.c_stride = l.c_stride;
  m.part_stride = l.part_stride;
  m.per_channel = plan.op == ChannelOp::batch;
  m.groups_per_sample = plan.groups;
  m.channels_per_group = plan.channels_per_group();
  return m;
}

device::StatsIndex stats_index(const ChannelNormPlan& plan) {
  return device::StatsIndex{plan.op == ChannelOp::batch, plan.groups,
                            FastDivmod(std::uint64_t(plan.channels_per_group()))};
}

device::ElementIndex element_index(const ChannelNormPlan& plan) {
  return device::ElementIndex{plan.channels_last, FastDivmod(std::uint64_t(plan.s)),
                              FastDivmod(std::uint64_t(plan.c))};
}

// Stage one of the forward: Welford partials of x.
template <class T, int W>
void welford_partials(const ChannelNormPlan& plan, const ChannelPartialLayout& l, const T* x,
                      Partials<acc_t<T>> out, cudaStream_t stream) {
  if (l.column_view) {
    const dim3 grid(unsigned(l.segments * l.parts), unsigned((plan.c + 31) / 32));
    device::column_welford_partials<T>
        <<<grid, dim3(32, 8), 0, stream>>>(x, plan.c, l.length, l.chunk, l.parts, out);
  } else {
    const std::int64_t cells = plan.n * plan.c;
    device::run_welford_partials<T, W><<<unsigned((cells * l.parts + 7) / 8), 256, 0, stream>>>(
        x, cells, l.length, l.chunk, l.parts, out);
  }
}

template <class T, int W>
void grad_partials(const ChannelNormPlan& plan, const ChannelPartialLayout& l, const T* dy,
                   const T* x, const ChannelWorkspace<acc_t<T>>& ws, cudaStream_t stream) {
  const device::StatsIndex si = stats_index(plan);
  if (l.column_view) {
    const dim3 grid(unsigned(l.segments * l.parts), unsigned((plan.c + 31) / 32));
    device::column_grad_partials<T><<<grid, dim3(32, 8), 0, stream>>>(
        dy, x, plan.c, l.length, l.chunk, l.parts, si, ws.group_mean, ws.group_rstd, ws.partials);
  } else {
    const std::int64_t cells = plan.n * plan.c;
    device::run_grad_partials<T, W><<<unsigned((cells * l.parts + 7) / 8), 256, 0, stream>>>(
        dy, x, cells, plan.c, l.length, l.chunk, l.parts, si, ws.group_mean, ws.group_rstd,
        ws.partials);
  }
}

// Calls f.template operator()<W>() with the vector width of the elementwise
// and run-view kernels.
template <class T, class F>
void with_vector_width(int w, F&& f) {
  constexpr int V = int(16 / sizeof(T));
  if (w == V) return f.template operator()<V>();
  return f.template operator()<1>();
}

template <class T>
void forward_typed(const ChannelNormPlan& plan, const ChannelNormForwardArgs& a, void* workspace,
                   cudaStream_t stream) {
  using A = acc_t<T>;
  const ChannelPartialLayout layout = channel_partial_layout(plan);
  WorkspaceCarver carver(workspace);
  const ChannelWorkspace<A> ws = carve<A>(carver, plan, false);
  const std::int64_t groups = plan.stat_groups();
  const T* x = static_cast<const T*>(a.x);
  const int w = channel_apply_vec(plan, aligned_to(a.x, 16) && aligned_to(a.y, 16));

  device::prepare_channel_params<A><<<blocks_for(plan.c, 256), 256, 0, stream>>>(
      plan.scale ? a.gamma : nullptr, plan.shift ? a.beta : nullptr, plan.param, plan.c, ws.gamma,
      ws.beta);
  if (plan.stats_from_running()) {
    device::stats_from_running<A><<<blocks_for(groups, 256), 256, 0, stream>>>(
        a.running_mean, a.running_var, plan.stats, plan.eps, groups, plan.c, ws.group_mean,
        ws.group_rstd, a.saved_mean, a.saved_rstd);
  } else {
    with_vector_width<T>(
        w, [&]<int W>() { welford_partials<T, W>(plan, layout, x, ws.partials, stream); });
    device::FinalizeParams f{};
    f.group_size = plan.group_size();
    f.eps = plan.eps;
    f.momentum = plan.momentum;
    f.paddle_momentum = plan.momentum_convention == NC_MOMENTUM_PADDLE;
    f.unbiased = plan.estimator == NC_VARIANCE_UNBIASED;
    f.stats = plan.stats;
    f.saved_mean = a.saved_mean;
    f.saved_rstd = a.saved_rstd;
    const bool update = plan.updates_running_stats();
    if (update && plan.op == ChannelOp::batch) {
      f.running_mean = a.running_mean;
      f.running_var = a.running_var;
    }
    f.instance_mean = ws.instance_mean;
    f.instance_var = ws.instance_var;
    device::merge_group_stats<A><<<unsigned(groups), 128, 0, stream>>>(
        ws.partials, group_map(plan, layout), f, ws.group_mean, ws.group_rstd);
    if (update && plan.op == ChannelOp::instance) {
      f.running_mean = a.running_mean;
      f.running_var = a.running_var;
      device::update_instance_running<<<blocks_for(plan.c, 256), 256, 0, stream>>>(
          ws.instance_mean, ws.instance_var, plan.n, plan.c, f);
    }
  }
  with_vector_width<T>(w, [&]<int W>() {
    const std::int64_t vectors = plan.elements() / W;
    device::channel_apply_forward<T, W><<<blocks_for(vectors, 256), 256, 0, stream>>>(
        x, static_cast<T*>(a.y), vectors, element_index(plan), stats_index(plan), ws.group_mean,
        ws.group_rstd, ws.gamma, ws.beta);
  });
  check_cuda(cudaGetLastError(), "channel_norm_forward kernel launch");
}

template <class T>
void backward_typed(const ChannelNormPlan& plan, const ChannelNormBackwardArgs& a, void* workspace,
                    cudaStream_t stream) {
  using A = acc_t<T>;
  const ChannelPartialLayout layout = channel_partial_layout(plan);
  WorkspaceCarver carver(workspace);
  const ChannelWorkspace<A> ws = carve<A>(carver, plan, true);
  const std::int64_t groups = plan.stat_groups();
  const T* x = static_cast<const T*>(a.x);
  const T* dy = static_cast<const T*>(a.dy);
  const bool batch_stats = !plan.stats_from_running();
  const int w =
      channel_apply_vec(plan, aligned_to(a.x, 16) && aligned_to(a.dy, 16) && aligned_to(a.dx, 16));
  const device::GroupMap map = group_map(plan, layout);

  device::prepare_channel_params<A><<<blocks_for(plan.c, 256), 256, 0, stream>>>(
      plan.scale ? a.gamma : nullptr, nullptr, plan.param, plan.c, ws.gamma, nullptr);
  if (batch_stats) {
    device::stats_from_saved<A><<<blocks_for(groups, 256), 256, 0, stream>>>(
        a.saved_mean, a.saved_rstd, plan.stats, groups, ws.group_mean, ws.group_rstd);
  } else {
    device::stats_from_running<A><<<blocks_for(groups, 256), 256, 0, stream>>>(
        a.running_mean, a.running_var, plan.stats, plan.eps, groups, plan.c, ws.group_mean,
        ws.group_rstd, nullptr, nullptr);
  }
  with_vector_width<T>(w, [&]<int W>() { grad_partials<T, W>(plan, layout, dy, x, ws, stream); });
  device::channel_grad_totals<A><<<unsigned(plan.c), 128, 0, stream>>>(
      ws.partials, map, a.dgamma, a.dbeta, plan.param, ws.gamma, batch_stats, plan.group_size(),
      ws.ca, ws.cb);
  if (plan.op != ChannelOp::batch) {
    device::group_grad_coefficients<A><<<unsigned(groups), 128, 0, stream>>>(
        ws.partials, map, ws.gamma, batch_stats, plan.group_size(), ws.ca, ws.cb);
  }
  if (a.dx != nullptr) {
    with_vector_width<T>(w, [&]<int W>() {
      const std::int64_t vectors = plan.elements() / W;
      device::channel_apply_backward<T, W><<<blocks_for(vectors, 256), 256, 0, stream>>>(
          dy, x, static_cast<T*>(a.dx), vectors, element_index(plan), stats_index(plan),
          ws.group_mean, ws.group_rstd, ws.gamma, ws.ca, ws.cb);
    });
  }
  check_cuda(cudaGetLastError(), "channel_norm_backward kernel launch");
}

}  // namespace

std::size_t channel_norm_forward_workspace(const ChannelNormPlan& plan) {
  WorkspaceCarver carver(nullptr);
  with_data_type(plan.data, [&]<class T>() { carve<acc_t<T>>(carver, plan, false); });
  return carver.bytes();
}

void channel_norm_forward(const ChannelNormPlan& plan, const ChannelNormForwardArgs& args,
                          void* workspace, cudaStream_t stream) {
  with_data_type(plan.data, [&]<class T>() { forward_typed<T>(plan, args, workspace, stream); });
}

std::size_t channel_norm_backward_workspace(const ChannelNormPlan& plan) {
  WorkspaceCarver carver(nullptr);
  with_data_type(plan.data, [&]<class T>() { carve<acc_t<T>>(carver, plan, true); });
  return carver.bytes();
}

void channel_norm_backward(const ChannelNormPlan& plan, const ChannelNormBackwardArgs& args,
                           void* workspace, cudaStream_t stream) {
  with_data_type(plan.data, [&]<class T>() { backward_typed<T>(plan, args, workspace, stream); });
}

}  // namespace normcheck::cuda
