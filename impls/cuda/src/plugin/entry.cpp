// The nc_backend_v1 table of the cuda backend: checks (the shared
// support::resolve_*), staging of host tensors, and the kernels of
// nc_cuda_ops. Every entry maps exceptions to a status through
// support::guarded, so nothing throws across the ABI.
#include <cuda_runtime_api.h>

#include <variant>

#include "conv_bn_fold.hpp"
#include "device_probe.hpp"
#include "normcheck/backend.h"
#include "normcheck/cuda/ops.hpp"
#include "normcheck/cuda/plan.hpp"
#include "normcheck/support/backend_table.hpp"
#include "normcheck/support/calls.hpp"
#include "normcheck/support/status.hpp"
#include "staging.hpp"

namespace normcheck::cuda {

namespace {

using support::ArgumentError;
using support::Unsupported;

std::size_t product_bytes(const std::vector<std::int64_t>& shape, DType t) {
  std::size_t n = 1;
  for (auto d : shape) n *= std::size_t(d);
  return n * numeric::dtype_size(t);
}

struct Sizes {
  std::size_t data, param, saved, running;
  explicit Sizes(const support::Geometry& g)
      : data(std::size_t(g.element_count) * numeric::dtype_size(g.data)),
        param(product_bytes(g.param_shape, g.param)),
        saved(std::size_t(g.group_count) * numeric::dtype_size(g.stats)),
        running(std::size_t(g.channels) * numeric::dtype_size(g.stats)) {}
};

void decline_collectives(const nc_collectives* c) {
  if (c != nullptr && c->size > 1)
    throw Unsupported(
        "collectives: SyncBatchNorm across ranks is not implemented by the cuda backend");
}

nc_status supports(const nc_problem* problem, char* reason, size_t reason_size) noexcept {
  return support::guarded(reason, reason_size, [&] {
    require_device();
    support::check_problem(problem);
    if (problem->op != NC_OP_CONV_BN_FOLD) (void)make_plan(problem);
  });
}

// Device tensors of the call disguised for the shared checks (staging.hpp).
nc_forward_args admitted(const nc_forward_args& a, DeviceResidency& r) {
  nc_forward_args v = a;
  v.x = r.admit(a.x);
  v.residual = r.admit(a.residual);
  v.gamma = r.admit(a.gamma);
  v.beta = r.admit(a.beta);
  v.running_mean = r.admit(a.running_mean);
  v.running_var = r.admit(a.running_var);
  v.y = r.admit(a.y);
  v.residual_out = r.admit(a.residual_out);
  v.saved_mean = r.admit(a.saved_mean);
  v.saved_rstd = r.admit(a.saved_rstd);
  return v;
}

nc_backward_args admitted(const nc_backward_args& a, DeviceResidency& r) {
  nc_backward_args v = a;
  v.dy = r.admit(a.dy);
  v.x = r.admit(a.x);
  v.gamma = r.admit(a.gamma);
  v.saved_mean = r.admit(a.saved_mean);
  v.saved_rstd = r.admit(a.saved_rstd);
  v.running_mean = r.admit(a.running_mean);
  v.running_var = r.admit(a.running_var);
  v.dx = r.admit(a.dx);
  v.dresidual = r.admit(a.dresidual);
  v.dgamma = r.admit(a.dgamma);
  v.dbeta = r.admit(a.dbeta);
  return v;
}

// What forward and backward share: checks, then staging around `body`,
// which receives the checked call (device pointers still to be staged), the
// plan, the byte sizes and the staging, and launches the kernels.
template <class Args, class Resolve, class Body>
void run_staged(const nc_problem* problem, const Args* args, Resolve resolve, Body body) {
  require_device();
  if (problem != nullptr && problem->op == NC_OP_CONV_BN_FOLD)
    throw ArgumentError("problem: op conv_bn_fold is called through conv_bn_fold() only");
  if (args == nullptr) throw ArgumentError("args is NULL");
  DeviceResidency residency;
  const Args view = admitted(*args, residency);
  const auto call = resolve(problem, &view);
  decline_collectives(call.collectives);
  const Plan plan = make_plan(problem);
  const Sizes size(call.geo);
  CurrentDevice device(residency.device());
  Staging st(residency);
  body(call, plan, size, st);
  st.finish();
}

void forward_body(const support::ForwardCall& call, const Plan& plan, const Sizes& size,
                  Staging& st) {
  if (const auto* row = std::get_if<RowNormPlan>(&plan)) {
    RowNormForwardArgs a;
    a.x = st.in(call.x, size.data);
    a.residual = st.in(call.residual, size.data);
    a.gamma = st.in(call.gamma, size.param);
    a.beta = st.in(call.beta, size.param);
    a.y = st.out(call.y, size.data);
    a.residual_out = st.out(call.residual_out, size.data);
    a.mean = st.out(call.saved_mean, size.saved);
    a.rstd = st.out(call.saved_rstd, size.saved);
    row_norm_forward(*row, a, st.scratch(row_norm_forward_workspace(*row)), nullptr);
    return;
  }
  const auto& ch = std::get<ChannelNormPlan>(plan);
  ChannelNormForwardArgs a;
  a.x = st.in(call.x, size.data);
  a.gamma = st.in(call.gamma, size.param);
  a.beta = st.in(call.beta, size.param);
  // Read in eval / global stats, read and written by a tracked training step.
  a.running_mean = st.inout(call.running_mean, size.running);
  a.running_var = st.inout(call.running_var, size.running);
  a.y = st.out(call.y, size.data);
  a.saved_mean = st.out(call.saved_mean, size.saved);
  a.saved_rstd = st.out(call.saved_rstd, size.saved);
  channel_norm_forward(ch, a, st.scratch(channel_norm_forward_workspace(ch)), nullptr);
}

void backward_body(const support::BackwardCall& call, const Plan& plan, const Sizes& size,
                   Staging& st) {
  if (const auto* row = std::get_if<RowNormPlan>(&plan)) {
    RowNormBackwardArgs a;
    a.dy = st.in(call.dy, size.data);
    a.x = st.in(call.x, size.data);
    a.gamma = st.in(call.gamma, size.param);
    a.mean = st.in(call.saved_mean, size.saved);
    a.rstd = st.in(call.saved_rstd, size.saved);
    a.dx = st.out(call.dx, size.data);
    a.dresidual = st.out(call.dresidual, size.data);
    a.dgamma = st.out(call.dgamma, size.param);
    a.dbeta = st.out(call.dbeta, size.param);
    row_norm_backward(*row, a, st.scratch(row_norm_backward_workspace(*row)), nullptr);
    return;
  }
  const auto& ch = std::get<ChannelNormPlan>(plan);
  ChannelNormBackwardArgs a;
  a.dy = st.in(call.dy, size.data);
  a.x = st.in(call.x, size.data);
  a.gamma = st.in(call.gamma, size.param);
  a.saved_mean = st.in(call.saved_mean, size.saved);
  a.saved_rstd = st.in(call.saved_rstd, size.saved);
  a.running_mean = st.in(call.running_mean, size.running);
  a.running_var = st.in(call.running_var, size.running);
  a.dx = st.out(call.dx, size.data);
  a.dgamma = st.out(call.dgamma, size.param);
  a.dbeta = st.out(call.dbeta, size.param);
  channel_norm_backward(ch, a, st.scratch(channel_norm_backward_workspace(ch)), nullptr);
}

nc_status forward(const nc_problem* problem, const nc_forward_args* args, char* message,
                  size_t message_size) noexcept {
  return support::guarded(message, message_size, [&] {
    run_staged(problem, args, support::resolve_forward, forward_body);
  });
}

nc_status backward(const nc_problem* problem, const nc_backward_args* args, char* message,
                   size_t message_size) noexcept {
  return support::guarded(message, message_size, [&] {
    run_staged(problem, args, support::resolve_backward, backward_body);
  });
}

nc_status conv_bn_fold(const nc_problem* problem, const nc_conv_bn_fold_args* args, char* message,
                       size_t message_size) noexcept {
  return support::guarded(message, message_size, [&] {
    require_device();
    fold_conv_bn_on_host(problem, args);
  });
}

constexpr nc_backend_v1 kTable{NORMCHECK_BACKEND_ABI_VERSION,
                               "cuda",
                               NC_CUDA_BACKEND_VERSION,
                               &supports,
                               &forward,
                               &backward,
                               &conv_bn_fold};

}  // namespace

}  // namespace normcheck::cuda

NC_BACKEND_EXPORT const nc_backend_v1* normcheck_backend_v1(void) {
  return &normcheck::cuda::kTable;
}
