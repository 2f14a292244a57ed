#include "batch_norm.hpp"

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
using forward_pd = dnnl::batch_normalization_forward::primitive_desc;
using backward_pd = dnnl::batch_normalization_backward::primitive_desc;

struct Flags {
  bool scale = false, shift = false, global_stats = false;
};

normalization_flags to_dnnl(Flags f) {
  auto flags = normalization_flags::none;
  if (f.scale) flags |= normalization_flags::use_scale;
  if (f.shift) flags |= normalization_flags::use_shift;
  if (f.global_stats) flags |= normalization_flags::use_global_stats;
  return flags;
}

Flags forward_flags(const nc_problem& p) {
  return {(p.flags & NC_FLAG_SCALE) != 0, (p.flags & NC_FLAG_SHIFT) != 0,
          support::uses_running_stats(p)};
}

// Eval needs no statistics out: forward_inference. Global stats is a
// training step, so it stays forward_training.
prop_kind forward_prop(const nc_problem& p) {
  return p.mode == NC_MODE_EVAL ? prop_kind::forward_inference : prop_kind::forward_training;
}

forward_pd make_forward_pd(const nc_problem& p, const dnnl::memory::desc& md, Flags f,
                           prop_kind prop, bool allow_empty) {
  const dnnl::batch_normalization_forward::desc d(prop, md, float(p.eps), to_dnnl(f));
  return forward_pd(d, cpu_engine(), allow_empty);
}

backward_pd make_backward_pd(const nc_problem& p, const dnnl::memory::desc& md, Flags f,
                             bool want_param_grads, bool allow_empty) {
  const auto hint = make_forward_pd(p, md, f, prop_kind::forward_training, allow_empty);
  if (!hint) return backward_pd();
  const dnnl::batch_normalization_backward::desc d(
      want_param_grads ? prop_kind::backward : prop_kind::backward_data, md, md, float(p.eps),
      to_dnnl(f));
  return backward_pd(d, cpu_engine(), hint, allow_empty);
}

void require_local(const nc_collectives* collectives) {
  if (collectives != nullptr)
    throw support::Unsupported("oneDNN has no distributed (synchronized) batch normalization");
}

}  // namespace

std::optional<std::string> batch_norm_unsupported(const nc_problem& p, const support::Geometry& g) {
  const auto md = batch_norm_data_desc(g);
  const Flags f = forward_flags(p);
  if (!make_forward_pd(p, md, f, forward_prop(p), true))
    return no_implementation("batch_normalization forward", g);
  if (!make_backward_pd(p, md, f, true, true))
    return no_implementation("batch_normalization backward", g);
  return std::nullopt;
}

void batch_norm_forward(const support::ForwardCall& c) {
  require_local(c.collectives);
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const auto md = batch_norm_data_desc(g);
  const Flags f = forward_flags(p);
  const auto pd = make_forward_pd(p, md, f, forward_prop(p), false);
  const auto channels = f32_vector(g.channels);

  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap_input(md, c.x)},
                                             {DNNL_ARG_DST, wrap(md, c.y)}};
  auto scale = support::param_values<float>(g.param, c.gamma, g.channels, 1.0f);
  auto shift = support::param_values<float>(g.param, c.beta, g.channels, 0.0f);
  if (f.scale) args.emplace(DNNL_ARG_SCALE, wrap(channels, scale.data()));
  if (f.shift) args.emplace(DNNL_ARG_SHIFT, wrap(channels, shift.data()));

  if (c.running_stats) {
    // Eval and global stats: the running statistics normalize, as constants.
    auto mean = support::param_values<float>(g.stats, c.running_mean, g.channels, 0.0f);
    auto var = support::param_values<float>(g.stats, c.running_var, g.channels, 1.0f);
    args.emplace(DNNL_ARG_MEAN, wrap(channels, mean.data()));
    args.emplace(DNNL_ARG_VARIANCE, wrap(channels, var.data()));
    run(dnnl::batch_normalization_forward(pd), args);
    return;
  }
  std::vector<float> mean(std::size_t(g.channels)), var(std::size_t(g.channels));
  args.emplace(DNNL_ARG_MEAN, wrap(channels, mean.data()));
  args.emplace(DNNL_ARG_VARIANCE, wrap(channels, var.data()));
  run(dnnl::batch_normalization_forward(pd), args);
  const auto batch_mean = widened(mean), batch_var = widened(var);
  support::store_saved(c, batch_mean, rstd_from_variance(var, p.eps));
  support::update_running(c, batch_mean, batch_var, g.batch * g.spatial);
}

void batch_norm_backward(const support::BackwardCall& c) {
  require_local(c.collectives);
  const auto& p = *c.problem;
  const auto& g = c.geo;
  const auto md = batch_norm_data_desc(g);
  const bool want_param_grads = c.dgamma != nullptr || c.dbeta != nullptr;
  // dgamma = sum(dy * xhat) involves no gamma, and without gamma dx is that
  // of gamma = 1, so a wanted dgamma without scale runs with ones.
  const Flags f{(p.flags & NC_FLAG_SCALE) != 0 || c.dgamma != nullptr, c.dbeta != nullptr,
                c.running_stats};
  const auto pd = make_backward_pd(p, md, f, want_param_grads, false);
  const auto channels = f32_vector(g.channels);

  std::vector<float> mean, var;
  if (c.running_stats) {
    mean = support::param_values<float>(g.stats, c.running_mean, g.channels, 0.0f);
    var = support::param_values<float>(g.stats, c.running_var, g.channels, 1.0f);
  } else {
    mean = support::param_values<float>(g.stats, c.saved_mean, g.channels, 0.0f);
    var = variance_from_rstd(support::param_values<float>(g.stats, c.saved_rstd, g.channels, 1.0f),
                             p.eps);
  }
  auto scale = support::param_values<float>(g.param, c.gamma, g.channels, 1.0f);
  std::vector<float> dscale(std::size_t(g.channels)), dshift(std::size_t(g.channels));
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap_input(md, c.x)},
                                             {DNNL_ARG_DIFF_DST, wrap_input(md, c.dy)},
                                             {DNNL_ARG_DIFF_SRC, wrap(md, c.dx)},
                                             {DNNL_ARG_MEAN, wrap(channels, mean.data())},
                                             {DNNL_ARG_VARIANCE, wrap(channels, var.data())}};
  if (f.scale) args.emplace(DNNL_ARG_SCALE, wrap(channels, scale.data()));
  // oneDNN 2.6 fails to execute a use_shift backward without a shift input,
  // though the shift enters neither dx nor dgamma/dbeta; the ABI's backward
  // carries no beta, so zeros stand in.
  std::vector<float> zero_shift(std::size_t(g.channels), 0.0f);
  if (f.shift) args.emplace(DNNL_ARG_SHIFT, wrap(channels, zero_shift.data()));
  if (want_param_grads && f.scale) args.emplace(DNNL_ARG_DIFF_SCALE, wrap(channels, dscale.data()));
  if (want_param_grads && f.shift) args.emplace(DNNL_ARG_DIFF_SHIFT, wrap(channels, dshift.data()));
  run(dnnl::batch_normalization_backward(pd), args);

  if (c.dgamma != nullptr) support::store_values(g.param, c.dgamma, widened(dscale));
  if (c.dbeta != nullptr) support::store_values(g.param, c.dbeta, widened(dshift));
}

}  // namespace normcheck::onednn
