// Instance norm and RMS norm: ATen composites whose backward is PyTorch
// autograd. The backward recomputes the forward with gradients enabled, as a
// training graph would have recorded it, so the saved statistics handed to
// backward() are not read here.
#include <ATen/ops/add.h>
#include <ATen/ops/instance_norm.h>
#include <ATen/ops/mean.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/native_batch_norm.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/rsqrt.h>
#include <ATen/ops/zeros.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <numeric>

#include "aten_ops.hpp"
#include "aten_views.hpp"
#include "layout.hpp"

namespace normcheck::torch_adapter {

namespace {

struct Params {
  c10::optional<at::Tensor> weight, bias;
};

// gamma/beta as the kernel takes them; with `for_grads`, present whenever a
// gradient is wanted (ones / zeros standing in, neither changes y) and
// recorded by autograd.
Params params(const void* gamma, const void* beta, const support::Geometry& g, const Dims& sizes,
              DType to, bool want_dgamma = false, bool want_dbeta = false) {
  Params p;
  const auto options = at::TensorOptions().dtype(scalar_type(to));
  if (gamma != nullptr || want_dgamma) p.weight = param_or_ones(gamma, g.param, sizes, to);
  if (beta != nullptr)
    p.bias = borrow_as(beta, g.param, sizes, to);
  else if (want_dbeta)
    p.bias = at::zeros(sizes, options);
  // A borrowed tensor is our own handle on the caller's buffer: marking it
  // for gradients records nothing in the buffer.
  if (want_dgamma) p.weight->set_requires_grad(true);
  if (want_dbeta) p.bias->set_requires_grad(true);
  return p;
}

// dx (and dgamma/dbeta when wanted) of `y` for the incoming gradient dy.
struct Grads {
  at::Tensor dx, dgamma, dbeta;
};

Grads gradients(const at::Tensor& y, const at::Tensor& dy, const at::Tensor& x, const Params& p,
                bool want_dgamma, bool want_dbeta) {
  std::vector<at::Tensor> inputs{x};
  if (want_dgamma) inputs.push_back(*p.weight);
  if (want_dbeta) inputs.push_back(*p.bias);
  const std::vector<at::Tensor> outputs{y}, output_grads{dy};
  const auto grads = torch::autograd::grad(outputs, inputs, output_grads);
  Grads r{grads[0], {}, {}};
  if (want_dgamma) r.dgamma = grads[1];
  if (want_dbeta) r.dbeta = grads[want_dgamma ? 2 : 1];
  return r;
}

void store_grads(const support::BackwardCall& c, const Grads& d, const Dims& dx_sizes,
                 const Dims& dx_strides, const Dims& param_sizes) {
  store(c.dx, c.geo.data, dx_sizes, dx_strides, d.dx);
  if (c.dgamma != nullptr) store(c.dgamma, c.geo.param, param_sizes, d.dgamma);
  if (c.dbeta != nullptr) store(c.dbeta, c.geo.param, param_sizes, d.dbeta);
}

// LLaMA-style RMSNorm as written in PyTorch (e.g. Hugging Face's
// LlamaRMSNorm): widen to f32, mean of squares over the normalized dims,
// rsqrt(ms + eps), round the normalized value back to the input dtype, then
// multiply by gamma in PyTorch's type promotion (and add beta). For bf16 this
// rounds twice (x * rstd, then gamma * that): the composition's, not a
// kernel's, arithmetic - it is what PyTorch 1.13 users ran.
struct RmsResult {
  at::Tensor y, rstd;
};

RmsResult rms_compose(const at::Tensor& h, const Params& p, const support::Geometry& g,
                      const KernelDtypes& k, double eps) {
  const at::Tensor wide = h.to(scalar_type(k.stats));
  // The normalized dims: the trailing g.param_shape.size() dims.
  std::vector<std::int64_t> dims(g.param_shape.size());
  std::iota(dims.begin(), dims.end(), std::int64_t(g.data_shape.size() - g.param_shape.size()));
  const at::Tensor mean_square = at::mean(at::pow(wide, 2), dims, /*keepdim=*/true);
  const at::Tensor rstd = at::rsqrt(at::add(mean_square, eps));
  at::Tensor y = at::mul(wide, rstd).to(scalar_type(g.data));
  if (p.weight) y = at::mul(*p.weight, y);
  if (p.bias) y = at::add(y, *p.bias);
  return {y, rstd};
}

}  // namespace

void instance_norm_forward(const support::ForwardCall& c, const KernelDtypes& k) {
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const auto v = logical_view(g);
  const Dims channels{g.channels};
  calling_aten([&] {
    const at::Tensor x = borrow(c.x, g.data, v.sizes, v.strides);
    const Params w = params(c.gamma, c.beta, g, channels, k.param);
    const RunningStats running = running_stats(c, k.stats);
    // Untracked instance norm normalizes with the sample's statistics in
    // every mode (PyTorch's eval() of InstanceNorm without running stats).
    const bool use_input_stats = !c.running_stats;
    const at::Tensor y =
        at::instance_norm(x, w.weight, w.bias, running.mean, running.var, use_input_stats,
                          p.momentum, p.eps, /*cudnn_enabled=*/false);
    store(c.y, g.data, v.sizes, v.strides, y);
    store_running(c, running);
    if (!use_input_stats || (c.saved_mean == nullptr && c.saved_rstd == nullptr)) return;
    // at::instance_norm returns y only. Its statistics come from the
    // batch_norm it runs on the (1, N*C, spatial) view with the parameters
    // and running statistics repeated N times; the same call, with copies of
    // the running statistics, reproduces them (same kernel, same dtypes).
    const auto repeat = [&](const c10::optional<at::Tensor>& t) -> c10::optional<at::Tensor> {
      if (!t) return c10::nullopt;
      return t->repeat({g.batch});
    };
    const at::Tensor reshaped = x.contiguous().view({1, g.batch * g.channels, g.spatial});
    const auto [unused, mean, invstd] =
        at::native_batch_norm(reshaped, repeat(w.weight), repeat(w.bias), repeat(running.mean),
                              repeat(running.var), true, p.momentum, p.eps);
    if (c.saved_mean != nullptr) store(c.saved_mean, g.stats, g.saved_shape, mean);
    if (c.saved_rstd != nullptr) store(c.saved_rstd, g.stats, g.saved_shape, invstd);
  });
}

void instance_norm_backward(const support::BackwardCall& c, const KernelDtypes& k) {
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const auto v = logical_view(g);
  const Dims channels{g.channels};
  const bool want_dgamma = c.dgamma != nullptr, want_dbeta = c.dbeta != nullptr;
  calling_aten([&] {
    const c10::AutoGradMode grad_mode(true);
    at::Tensor x = borrow(c.x, g.data, v.sizes, v.strides);
    x.set_requires_grad(true);
    const Params w = params(c.gamma, nullptr, g, channels, k.param, want_dgamma, want_dbeta);
    c10::optional<at::Tensor> running_mean, running_var;
    if (c.running_stats) {
      // Copies: the recomputed forward must not touch the caller's statistics.
      running_mean = borrow_as(c.running_mean, g.stats, channels, k.stats).clone();
      running_var = borrow_as(c.running_var, g.stats, channels, k.stats).clone();
    }
    const at::Tensor y =
        at::instance_norm(x, w.weight, w.bias, running_mean, running_var, !c.running_stats,
                          p.momentum, p.eps, /*cudnn_enabled=*/false);
    const at::Tensor dy = borrow(c.dy, g.data, v.sizes, v.strides);
    store_grads(c, gradients(y, dy, x, w, want_dgamma, want_dbeta), v.sizes, v.strides, channels);
  });
}

void rms_norm_forward(const support::ForwardCall& c, const KernelDtypes& k) {
  const auto& g = c.geo;
  calling_aten([&] {
    const at::Tensor input = row_input(c);
    const auto r = rms_compose(input, params(c.gamma, c.beta, g, g.param_shape, k.param), g, k,
                               c.problem->eps);
    store(c.y, g.data, g.data_shape, r.y);
    if (c.saved_rstd != nullptr) store(c.saved_rstd, g.stats, g.saved_shape, r.rstd);
  });
}

void rms_norm_backward(const support::BackwardCall& c, const KernelDtypes& k) {
  const auto& g = c.geo;
  const bool want_dgamma = c.dgamma != nullptr, want_dbeta = c.dbeta != nullptr;
  calling_aten([&] {
    const c10::AutoGradMode grad_mode(true);
    at::Tensor h = borrow(c.x, g.data, g.data_shape);
    h.set_requires_grad(true);
    // beta changes no gradient: zeros stand in when dbeta is wanted.
    const Params w = params(c.gamma, nullptr, g, g.param_shape, k.param, want_dgamma, want_dbeta);
    const auto r = rms_compose(h, w, g, k, c.problem->eps);
    const at::Tensor dy = borrow(c.dy, g.data, g.data_shape);
    store_grads(c, gradients(r.y, dy, h, w, want_dgamma, want_dbeta), g.data_shape, {},
                g.param_shape);
  });
  copy_dresidual(c);
}

}  // namespace normcheck::torch_adapter
