// Batch, layer and group norm through ATen's native CPU kernels.
#include "aten_ops.hpp"

#include <ATen/ops/native_batch_norm.h>
#include <ATen/ops/native_batch_norm_backward.h>
#include <ATen/ops/native_group_norm.h>
#include <ATen/ops/native_group_norm_backward.h>
#include <ATen/ops/native_layer_norm.h>
#include <ATen/ops/native_layer_norm_backward.h>

#include "aten_views.hpp"
#include "layout.hpp"

namespace normcheck::torch_adapter {

namespace {

c10::optional<at::Tensor> optional_param(const void* data, DType dtype, const Dims& sizes,
                                         DType to) {
  if (data == nullptr) return c10::nullopt;
  return borrow_as(data, dtype, sizes, to);
}

// gamma for a backward: as given, ones when dgamma is wanted without one.
c10::optional<at::Tensor> backward_weight(const support::BackwardCall& c, const Dims& sizes,
                                          DType to) {
  if (c.gamma == nullptr && c.dgamma == nullptr) return c10::nullopt;
  return param_or_ones(c.gamma, c.geo.param, sizes, to);
}

void store_param_grads(const support::BackwardCall& c, const Dims& sizes, const at::Tensor& dgamma,
                       const at::Tensor& dbeta) {
  if (c.dgamma != nullptr) store(c.dgamma, c.geo.param, sizes, dgamma);
  if (c.dbeta != nullptr) store(c.dbeta, c.geo.param, sizes, dbeta);
}

}  // namespace

void batch_norm_forward(const support::ForwardCall& c, const KernelDtypes& k) {
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const auto v = logical_view(g);
  const Dims channels{g.channels};
  calling_aten([&] {
    const at::Tensor x = borrow(c.x, g.data, v.sizes, v.strides);
    const RunningStats running = running_stats(c, k.stats);
    // Global stats is an eval-mode forward: the running statistics
    // normalize and stay untouched.
    const bool training = p.mode == NC_MODE_TRAIN;
    const auto [y, save_mean, save_invstd] =
        at::native_batch_norm(x, optional_param(c.gamma, g.param, channels, k.param),
                              optional_param(c.beta, g.param, channels, k.param), running.mean,
                              running.var, training, p.momentum, p.eps);
    store(c.y, g.data, v.sizes, v.strides, y);
    if (!training) return;
    if (c.saved_mean != nullptr) store(c.saved_mean, g.stats, channels, save_mean);
    if (c.saved_rstd != nullptr) store(c.saved_rstd, g.stats, channels, save_invstd);
    store_running(c, running);
  });
}

void batch_norm_backward(const support::BackwardCall& c, const KernelDtypes& k) {
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const auto v = logical_view(g);
  const Dims channels{g.channels};
  calling_aten([&] {
    const at::Tensor x = borrow(c.x, g.data, v.sizes, v.strides);
    const at::Tensor dy = borrow(c.dy, g.data, v.sizes, v.strides);
    const auto weight = backward_weight(c, channels, k.param);
    c10::optional<at::Tensor> running_mean, running_var, save_mean, save_invstd;
    if (c.running_stats) {
      running_mean = borrow_as(c.running_mean, g.stats, channels, k.stats);
      running_var = borrow_as(c.running_var, g.stats, channels, k.stats);
    } else {
      save_mean = borrow_as(c.saved_mean, g.stats, channels, k.stats);
      save_invstd = borrow_as(c.saved_rstd, g.stats, channels, k.stats);
    }
    const auto [dx, dgamma, dbeta] = at::native_batch_norm_backward(
        dy, x, weight, running_mean, running_var, save_mean, save_invstd, !c.running_stats, p.eps,
        {true, c.dgamma != nullptr, c.dbeta != nullptr});
    store(c.dx, g.data, v.sizes, v.strides, dx);
    store_param_grads(c, channels, dgamma, dbeta);
  });
}

void layer_norm_forward(const support::ForwardCall& c, const KernelDtypes& k) {
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const auto normalized = normalized_shape(g);
  calling_aten([&] {
    const auto [y, mean, rstd] = at::native_layer_norm(
        row_input(c), normalized, optional_param(c.gamma, g.param, normalized, k.param),
        optional_param(c.beta, g.param, normalized, k.param), p.eps);
    store(c.y, g.data, g.data_shape, y);
    if (c.saved_mean != nullptr) store(c.saved_mean, g.stats, g.saved_shape, mean);
    if (c.saved_rstd != nullptr) store(c.saved_rstd, g.stats, g.saved_shape, rstd);
  });
}

void layer_norm_backward(const support::BackwardCall& c, const KernelDtypes& k) {
  const auto& g = c.geo;
  const auto normalized = normalized_shape(g);
  calling_aten([&] {
    const at::Tensor x = borrow(c.x, g.data, g.data_shape);
    const at::Tensor dy = borrow(c.dy, g.data, g.data_shape);
    // ATen's kernel reads mean/rstd in the input dtype (that is how its
    // forward saves them): for bf16 data the given statistics are rounded to
    // bf16 here - exact when they came from this backend's forward.
    const at::Tensor mean = borrow_as(c.saved_mean, g.stats, g.saved_shape, k.data);
    const at::Tensor rstd = borrow_as(c.saved_rstd, g.stats, g.saved_shape, k.data);
    // dbeta's shape comes from beta, which the backward otherwise ignores.
    c10::optional<at::Tensor> bias;
    if (c.dbeta != nullptr) bias = param_or_ones(nullptr, g.param, normalized, k.param);
    const auto [dx, dgamma, dbeta] = at::native_layer_norm_backward(
        dy, x, normalized, mean, rstd, backward_weight(c, normalized, k.param), bias,
        {true, c.dgamma != nullptr, c.dbeta != nullptr});
    store(c.dx, g.data, g.data_shape, dx);
    store_param_grads(c, normalized, dgamma, dbeta);
  });
  copy_dresidual(c);
}

namespace {

// native_group_norm wants its input dense in its suggested memory format
// (channels-last exists for rank 4 and 5 only); at::group_norm makes it so
// first, and so does the adapter.
at::Tensor group_norm_input(const void* data, const support::Geometry& g, const LogicalView& v) {
  const at::Tensor t = borrow(data, g.data, v.sizes, v.strides);
  return t.contiguous(t.suggest_memory_format());
}

}  // namespace

void group_norm_forward(const support::ForwardCall& c, const KernelDtypes& k) {
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const auto v = logical_view(g);
  const Dims channels{g.channels};
  calling_aten([&] {
    const auto [y, mean, rstd] = at::native_group_norm(
        group_norm_input(c.x, g, v), optional_param(c.gamma, g.param, channels, k.param),
        optional_param(c.beta, g.param, channels, k.param), g.batch, g.channels, g.spatial,
        g.groups, p.eps);
    store(c.y, g.data, v.sizes, v.strides, y);
    if (c.saved_mean != nullptr) store(c.saved_mean, g.stats, g.saved_shape, mean);
    if (c.saved_rstd != nullptr) store(c.saved_rstd, g.stats, g.saved_shape, rstd);
  });
}

void group_norm_backward(const support::BackwardCall& c, const KernelDtypes& k) {
  const auto& g = c.geo;
  const auto v = logical_view(g);
  const Dims channels{g.channels};
  calling_aten([&] {
    // As for layer norm, the statistics go in the input dtype. dy and x go
    // in plain contiguous (NCHW) order: ATen 1.13's backward kernel reads
    // its inputs as NCHW whatever their strides (channels-last backward
    // support came after 1.13, pytorch/pytorch#89485), so channels-last
    // tensors give silently wrong dx, dgamma and dbeta (tests: "group norm
    // backward of channels-last rank-4 data ...").
    const auto [dx, dgamma, dbeta] = at::native_group_norm_backward(
        borrow(c.dy, g.data, v.sizes, v.strides).contiguous(),
        borrow(c.x, g.data, v.sizes, v.strides).contiguous(),
        borrow_as(c.saved_mean, g.stats, g.saved_shape, k.data),
        borrow_as(c.saved_rstd, g.stats, g.saved_shape, k.data),
        backward_weight(c, channels, k.param), g.batch, g.channels, g.spatial, g.groups,
        {true, c.dgamma != nullptr, c.dbeta != nullptr});
    store(c.dx, g.data, v.sizes, v.strides, dx);
    store_param_grads(c, channels, dgamma, dbeta);
  });
}

}  // namespace normcheck::torch_adapter
