#include "layer_norm.hpp"

#include <algorithm>
#include <vector>

#include "descriptors.hpp"
#include "engine.hpp"
#include "normcheck/support/statistics.hpp"
#include "normcheck/support/status.hpp"
#include "statistics.hpp"

namespace normcheck::onednn {

namespace {

using dnnl::normalization_flags;
using dnnl::prop_kind;
using forward_pd = dnnl::layer_normalization_forward::primitive_desc;
using backward_pd = dnnl::layer_normalization_backward::primitive_desc;

normalization_flags flags(bool scale, bool shift) {
  auto f = normalization_flags::none;
  if (scale) f |= normalization_flags::use_scale;
  if (shift) f |= normalization_flags::use_shift;
  return f;
}

forward_pd make_forward_pd(const nc_problem& p, const support::Geometry& g, normalization_flags f,
                           bool allow_empty) {
  const dnnl::layer_normalization_forward::desc d(
      prop_kind::forward_training, layer_norm_data_desc(g), f32_vector(g.rows), float(p.eps), f);
  return forward_pd(d, cpu_engine(), allow_empty);
}

backward_pd make_backward_pd(const nc_problem& p, const support::Geometry& g, normalization_flags f,
                             bool want_param_grads, bool allow_empty) {
  const auto hint = make_forward_pd(p, g, f, allow_empty);
  if (!hint) return backward_pd();
  const auto md = layer_norm_data_desc(g);
  const dnnl::layer_normalization_backward::desc d(
      want_param_grads ? prop_kind::backward : prop_kind::backward_data, md, md, f32_vector(g.rows),
      float(p.eps), f);
  return backward_pd(d, cpu_engine(), hint, allow_empty);
}

dnnl::binary::primitive_desc make_add_pd(const support::Geometry& g, bool allow_empty) {
  const auto md = layer_norm_data_desc(g);
  const dnnl::binary::desc d(dnnl::algorithm::binary_add, md, md, md);
  return dnnl::binary::primitive_desc(d, cpu_engine(), allow_empty);
}

bool has(const nc_problem& p, unsigned flag) {
  return (p.flags & flag) != 0;
}

}  // namespace

std::optional<std::string> layer_norm_unsupported(const nc_problem& p, const support::Geometry& g) {
  const auto f = flags(has(p, NC_FLAG_SCALE), has(p, NC_FLAG_SHIFT));
  if (!make_forward_pd(p, g, f, true)) return no_implementation("layer_normalization forward", g);
  if (!make_backward_pd(p, g, f, true, true))
    return no_implementation("layer_normalization backward", g);
  if (has(p, NC_FLAG_RESIDUAL) && !make_add_pd(g, true))
    return no_implementation("binary add (the fused residual)", g);
  return std::nullopt;
}

void layer_norm_forward(const support::ForwardCall& c) {
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const bool scale = has(p, NC_FLAG_SCALE), shift = has(p, NC_FLAG_SHIFT);
  const auto pd = make_forward_pd(p, g, flags(scale, shift), false);
  const auto md = layer_norm_data_desc(g);

  // The normalized input: x, or residual_out = x + residual rounded to the data dtype.
  const void* normalized = c.x;
  if (has(p, NC_FLAG_RESIDUAL)) {
    run(dnnl::binary(make_add_pd(g, false)), {{DNNL_ARG_SRC_0, wrap_input(md, c.x)},
                                              {DNNL_ARG_SRC_1, wrap_input(md, c.residual)},
                                              {DNNL_ARG_DST, wrap(md, c.residual_out)}});
    normalized = c.residual_out;
  }

  const auto rows = f32_vector(g.rows), cols = f32_vector(g.cols);
  std::vector<float> mean(std::size_t(g.rows)), var(std::size_t(g.rows));
  auto gamma = support::param_values<float>(g.param, c.gamma, g.cols, 1.0f);
  auto beta = support::param_values<float>(g.param, c.beta, g.cols, 0.0f);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap_input(md, normalized)},
                                             {DNNL_ARG_DST, wrap(md, c.y)},
                                             {DNNL_ARG_MEAN, wrap(rows, mean.data())},
                                             {DNNL_ARG_VARIANCE, wrap(rows, var.data())}};
  if (scale) args.emplace(DNNL_ARG_SCALE, wrap(cols, gamma.data()));
  if (shift) args.emplace(DNNL_ARG_SHIFT, wrap(cols, beta.data()));
  run(dnnl::layer_normalization_forward(pd), args);
  support::store_saved(c, widened(mean), rstd_from_variance(var, p.eps));
}

void layer_norm_backward(const support::BackwardCall& c) {
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const bool want_param_grads = c.dgamma != nullptr || c.dbeta != nullptr;
  // As for batch norm: dgamma needs no gamma; without one, gamma = 1.
  const bool scale = has(p, NC_FLAG_SCALE) || c.dgamma != nullptr;
  const bool shift = c.dbeta != nullptr;
  const auto pd = make_backward_pd(p, g, flags(scale, shift), want_param_grads, false);
  const auto md = layer_norm_data_desc(g);
  const auto rows = f32_vector(g.rows), cols = f32_vector(g.cols);

  auto mean = support::param_values<float>(g.stats, c.saved_mean, g.rows, 0.0f);
  auto var =
      variance_from_rstd(support::param_values<float>(g.stats, c.saved_rstd, g.rows, 1.0f), p.eps);
  auto gamma = support::param_values<float>(g.param, c.gamma, g.cols, 1.0f);
  std::vector<float> dgamma(std::size_t(g.cols)), dbeta(std::size_t(g.cols));
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap_input(md, c.x)},
                                             {DNNL_ARG_DIFF_DST, wrap_input(md, c.dy)},
                                             {DNNL_ARG_DIFF_SRC, wrap(md, c.dx)},
                                             {DNNL_ARG_MEAN, wrap(rows, mean.data())},
                                             {DNNL_ARG_VARIANCE, wrap(rows, var.data())}};
  if (scale) args.emplace(DNNL_ARG_SCALE, wrap(cols, gamma.data()));
  // As for batch norm: oneDNN 2.6 wants a shift input it does not use.
  std::vector<float> zero_shift(std::size_t(g.cols), 0.0f);
  if (shift) args.emplace(DNNL_ARG_SHIFT, wrap(cols, zero_shift.data()));
  if (want_param_grads && scale) args.emplace(DNNL_ARG_DIFF_SCALE, wrap(cols, dgamma.data()));
  if (want_param_grads && shift) args.emplace(DNNL_ARG_DIFF_SHIFT, wrap(cols, dbeta.data()));
  run(dnnl::layer_normalization_backward(pd), args);

  if (c.dgamma != nullptr) support::store_values(g.param, c.dgamma, widened(dgamma));
  if (c.dbeta != nullptr) support::store_values(g.param, c.dbeta, widened(dbeta));
  if (c.dresidual != nullptr && c.dresidual != c.dx) {
    const auto bytes = std::size_t(g.element_count) * numeric::dtype_size(g.data);
    std::copy_n(static_cast<const unsigned char*>(c.dx), bytes,
                static_cast<unsigned char*>(c.dresidual));
  }
}

}  // namespace normcheck::onednn
