#include "normcheck/support/calls.hpp"

#include <cmath>
#include <string>

#include "normcheck/support/status.hpp"
#include "normcheck/support/tensor_check.hpp"

namespace normcheck::support {

namespace {

constexpr std::string_view always = "every call reads or writes it";
constexpr std::string_view scale_flag = "the problem has NC_FLAG_SCALE";
constexpr std::string_view shift_flag = "the problem has NC_FLAG_SHIFT";
constexpr std::string_view residual_flag = "the problem has NC_FLAG_RESIDUAL";
constexpr std::string_view optional = "";

const nc_collectives* checked_collectives(const nc_problem& p, const nc_collectives* c) {
  if (c == nullptr || p.mode != NC_MODE_TRAIN) return nullptr;
  if (p.op != NC_OP_BATCH_NORM)
    throw Unsupported("collectives: distributed statistics apply to batch_norm only");
  if (c->allreduce_sum_f64 == nullptr || c->size < 1 || c->rank < 0 || c->rank >= c->size)
    throw ArgumentError("collectives: allreduce_sum_f64 is NULL or rank/size are inconsistent");
  return c;
}

// The unbiased running variance divides by count - 1. In SyncBN the count
// is the global one, which the kernel learns from its all-reduce (a rank's
// shard may hold a single value per channel), so a distributed forward is
// not checked here.
void check_running_count(const nc_problem& p, const Geometry& g) {
  if (updates_running_stats(p) && p.running_var_estimator == NC_VARIANCE_UNBIASED &&
      g.group_size < 2)
    throw ArgumentError(
        "problem: the unbiased running variance needs at least 2 values per statistic, this "
        "problem has " +
        std::to_string(g.group_size));
}

}  // namespace

void check_problem(const nc_problem* problem) {
  Geometry g;
  check_problem_header(problem, g);
  if (problem->op != NC_OP_CONV_BN_FOLD) check_running_count(*problem, geometry_of(problem));
}

ForwardCall resolve_forward(const nc_problem* problem, const nc_forward_args* args) {
  ForwardCall c;
  c.geo = geometry_of(problem);
  if (args == nullptr) throw ArgumentError("args is NULL");
  const auto& p = *problem;
  const auto& g = c.geo;
  c.problem = problem;
  c.running_stats = uses_running_stats(p);
  c.update_running = updates_running_stats(p);
  const bool residual = (p.flags & NC_FLAG_RESIDUAL) != 0;
  const std::string_view running_because =
      c.running_stats    ? "eval and global-stats modes normalize with the running statistics"
      : c.update_running ? "training with NC_FLAG_TRACK_RUNNING_STATS updates them"
                         : optional;

  c.x = checked_data(args->x, {"x", g.data, g.data_shape, always});
  c.y = checked_data(args->y, {"y", g.data, g.data_shape, always});
  if (residual) {
    c.residual = checked_data(args->residual, {"residual", g.data, g.data_shape, residual_flag});
    c.residual_out =
        checked_data(args->residual_out, {"residual_out", g.data, g.data_shape, residual_flag});
  }
  if (p.flags & NC_FLAG_SCALE)
    c.gamma = checked_data(args->gamma, {"gamma", g.param, g.param_shape, scale_flag});
  if (p.flags & NC_FLAG_SHIFT)
    c.beta = checked_data(args->beta, {"beta", g.param, g.param_shape, shift_flag});
  if (c.running_stats || c.update_running) {
    c.running_mean = checked_data(args->running_mean,
                                  {"running_mean", g.stats, g.running_shape, running_because});
    c.running_var =
        checked_data(args->running_var, {"running_var", g.stats, g.running_shape, running_because});
  }
  // With running statistics nothing is computed that saved_* could hold:
  // they are left untouched (a backward in these modes reads running_*).
  if (!c.running_stats) {
    if (p.op != NC_OP_RMS_NORM)
      c.saved_mean =
          checked_data(args->saved_mean, {"saved_mean", g.stats, g.saved_shape, optional});
    c.saved_rstd = checked_data(args->saved_rstd, {"saved_rstd", g.stats, g.saved_shape, optional});
  }
  c.collectives = checked_collectives(p, args->collectives);
  if (c.collectives == nullptr) check_running_count(p, g);
  return c;
}

BackwardCall resolve_backward(const nc_problem* problem, const nc_backward_args* args) {
  BackwardCall c;
  c.geo = geometry_of(problem);
  if (args == nullptr) throw ArgumentError("args is NULL");
  const auto& p = *problem;
  const auto& g = c.geo;
  c.problem = problem;
  c.running_stats = uses_running_stats(p);

  c.dy = checked_data(args->dy, {"dy", g.data, g.data_shape, always});
  c.x = checked_data(args->x, {"x", g.data, g.data_shape, always});
  c.dx = checked_data(args->dx, {"dx", g.data, g.data_shape, always});
  if (p.flags & NC_FLAG_RESIDUAL)
    c.dresidual = checked_data(args->dresidual, {"dresidual", g.data, g.data_shape, optional});
  if (p.flags & NC_FLAG_SCALE)
    c.gamma = checked_data(args->gamma, {"gamma", g.param, g.param_shape, scale_flag});
  c.dgamma = checked_data(args->dgamma, {"dgamma", g.param, g.param_shape, optional});
  c.dbeta = checked_data(args->dbeta, {"dbeta", g.param, g.param_shape, optional});
  if (c.running_stats) {
    constexpr std::string_view because =
        "eval and global-stats backward use the running statistics";
    c.running_mean =
        checked_data(args->running_mean, {"running_mean", g.stats, g.running_shape, because});
    c.running_var =
        checked_data(args->running_var, {"running_var", g.stats, g.running_shape, because});
  } else {
    constexpr std::string_view because = "the backward goes through the batch statistics";
    if (p.op != NC_OP_RMS_NORM)
      c.saved_mean =
          checked_data(args->saved_mean, {"saved_mean", g.stats, g.saved_shape, because});
    c.saved_rstd = checked_data(args->saved_rstd, {"saved_rstd", g.stats, g.saved_shape, because});
  }
  c.collectives = checked_collectives(p, args->collectives);
  return c;
}

FoldCall resolve_fold(const nc_problem* problem, const nc_conv_bn_fold_args* args) {
  Geometry g;
  check_problem_header(problem, g);
  if (g.op != NC_OP_CONV_BN_FOLD)
    throw ArgumentError("problem: conv_bn_fold() needs op conv_bn_fold");
  if (args == nullptr) throw ArgumentError("args is NULL");
  const auto& p = *problem;
  FoldCall c;
  c.data = g.data;
  c.param = g.param;
  c.stats = g.stats;
  c.eps = args->eps;
  if (!(c.eps >= 0.0) || !std::isfinite(c.eps))
    throw ArgumentError("eps " + std::to_string(c.eps) + " must be finite and >= 0");

  const DLTensor* w = args->weight;
  if (w == nullptr) throw ArgumentError("weight is NULL, but " + std::string(always));
  if (w->ndim != 4 || w->shape == nullptr)
    throw ArgumentError("weight: ndim " + std::to_string(w->ndim) + ", must be 4 (OC, IC, KH, KW)");
  const std::vector<std::int64_t> weight_shape(w->shape, w->shape + 4);
  for (auto d : weight_shape)
    if (d <= 0)
      throw ArgumentError("weight: shape " + shape_text(weight_shape) + " has a dim <= 0");
  if (p.ndim >= 2 && weight_shape[1] != p.shape[1])
    throw ArgumentError("weight: " + std::to_string(weight_shape[1]) +
                        " input channels, but the conv input has " + std::to_string(p.shape[1]));
  c.out_channels = weight_shape[0];
  c.weights_per_channel = weight_shape[1] * weight_shape[2] * weight_shape[3];
  const std::vector<std::int64_t> per_channel{c.out_channels};

  c.weight = checked_data(args->weight, {"weight", c.data, weight_shape, always});
  c.bias = checked_data(args->bias, {"bias", c.data, per_channel, optional});
  if (p.flags & NC_FLAG_SCALE)
    c.gamma = checked_data(args->gamma, {"gamma", c.param, per_channel, scale_flag});
  if (p.flags & NC_FLAG_SHIFT)
    c.beta = checked_data(args->beta, {"beta", c.param, per_channel, shift_flag});
  c.running_mean = checked_data(args->running_mean, {"running_mean", c.stats, per_channel, always});
  c.running_var = checked_data(args->running_var, {"running_var", c.stats, per_channel, always});
  c.folded_weight =
      checked_data(args->folded_weight, {"folded_weight", c.data, weight_shape, always});
  c.folded_bias = checked_data(args->folded_bias, {"folded_bias", c.data, per_channel, always});
  return c;
}

}  // namespace normcheck::support
