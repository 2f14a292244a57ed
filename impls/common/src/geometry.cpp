#include "normcheck/support/geometry.hpp"

#include <cmath>
#include <string>

#include "normcheck/support/status.hpp"

namespace normcheck::support {

namespace {

std::string number(std::int64_t v) {
  return std::to_string(v);
}

DType checked_dtype(DLDataType d, const char* field) {
  const auto t = numeric::from_dlpack(d);
  if (!t)
    throw Unsupported(std::string(field) + ": dtype (code " + number(d.code) + ", " +
                      number(d.bits) + " bits, " + number(d.lanes) +
                      " lanes) is not one of f64, f32, f16, bf16");
  return *t;
}

std::int64_t product(const std::vector<std::int64_t>& v, std::size_t begin, std::size_t end) {
  std::int64_t r = 1;
  for (std::size_t i = begin; i < end; ++i) r *= v[i];
  return r;
}

}  // namespace

void check_problem_header(const nc_problem* p, Geometry& g) {
  if (p == nullptr) throw ArgumentError("problem is NULL");
  if (p->struct_size < sizeof(nc_problem))
    throw ArgumentError("problem: struct_size " + number(p->struct_size) + " is smaller than " +
                        number(sizeof(nc_problem)) +
                        "; the caller was built with another backend.h");
  g.op = p->op;
  g.layout = p->layout;
  if (p->op < NC_OP_BATCH_NORM || p->op > NC_OP_CONV_BN_FOLD)
    throw ArgumentError("problem: op " + number(p->op) + " is not an nc_op");
  if (p->layout != NC_LAYOUT_NCHW && p->layout != NC_LAYOUT_NHWC)
    throw ArgumentError("problem: layout " + number(p->layout) + " is not an nc_layout");
  if (p->mode < NC_MODE_TRAIN || p->mode > NC_MODE_GLOBAL_STATS)
    throw ArgumentError("problem: mode " + number(p->mode) + " is not an nc_mode");
  if (p->momentum_convention != NC_MOMENTUM_TORCH && p->momentum_convention != NC_MOMENTUM_PADDLE)
    throw ArgumentError("problem: momentum_convention " + number(p->momentum_convention) +
                        " is not an nc_momentum_convention");
  if (p->running_var_estimator != NC_VARIANCE_UNBIASED &&
      p->running_var_estimator != NC_VARIANCE_BIASED)
    throw ArgumentError("problem: running_var_estimator " + number(p->running_var_estimator) +
                        " is not an nc_variance_estimator");
  if (!(p->eps >= 0.0) || !std::isfinite(p->eps))
    throw ArgumentError("problem: eps " + std::to_string(p->eps) + " must be finite and >= 0");
  if (!(p->momentum >= 0.0 && p->momentum <= 1.0))
    throw ArgumentError("problem: momentum " + std::to_string(p->momentum) + " must lie in [0, 1]");
  g.data = checked_dtype(p->data_dtype, "problem.data_dtype");
  g.param = checked_dtype(p->param_dtype, "problem.param_dtype");
  g.stats = checked_dtype(p->stats_dtype, "problem.stats_dtype");
  if (p->ndim < 1 || p->ndim > NC_MAX_DIMS)
    throw ArgumentError("problem: ndim " + number(p->ndim) + " must lie in [1, " +
                        number(NC_MAX_DIMS) + "]");
  g.data_shape.assign(p->shape, p->shape + p->ndim);
  g.element_count = 1;
  for (int i = 0; i < p->ndim; ++i) {
    if (p->shape[i] <= 0)
      throw ArgumentError("problem: shape[" + number(i) + "] is " + number(p->shape[i]) +
                          ", must be positive");
    if (__builtin_mul_overflow(g.element_count, p->shape[i], &g.element_count))
      throw ArgumentError("problem: the element count overflows 64 bits");
  }
}

bool uses_running_stats(const nc_problem& p) {
  const bool has_running = p.op == NC_OP_BATCH_NORM ||
                           (p.op == NC_OP_INSTANCE_NORM && (p.flags & NC_FLAG_TRACK_RUNNING_STATS));
  return has_running && p.mode != NC_MODE_TRAIN;
}

bool updates_running_stats(const nc_problem& p) {
  const bool tracked = (p.op == NC_OP_BATCH_NORM || p.op == NC_OP_INSTANCE_NORM) &&
                       (p.flags & NC_FLAG_TRACK_RUNNING_STATS);
  return tracked && p.mode == NC_MODE_TRAIN;
}

Geometry geometry_of(const nc_problem* p) {
  Geometry g;
  check_problem_header(p, g);
  const auto& shape = g.data_shape;
  const auto rank = shape.size();
  if (g.op == NC_OP_CONV_BN_FOLD)
    throw ArgumentError("problem: op conv_bn_fold is called through conv_bn_fold() only");
  if ((p->flags & NC_FLAG_RESIDUAL) && !g.row_op())
    throw ArgumentError("problem: NC_FLAG_RESIDUAL applies to layer_norm and rms_norm only");
  if ((p->flags & NC_FLAG_TRACK_RUNNING_STATS) &&
      !(g.op == NC_OP_BATCH_NORM || g.op == NC_OP_INSTANCE_NORM))
    throw ArgumentError(
        "problem: NC_FLAG_TRACK_RUNNING_STATS applies to batch_norm and instance_norm only");
  if (p->mode == NC_MODE_GLOBAL_STATS && !uses_running_stats(*p))
    throw ArgumentError(
        "problem: global-stats mode needs running statistics (batch_norm, or "
        "instance_norm with NC_FLAG_TRACK_RUNNING_STATS)");
  if (g.op == NC_OP_BATCH_NORM && p->mode != NC_MODE_TRAIN &&
      !(p->flags & NC_FLAG_TRACK_RUNNING_STATS))
    throw ArgumentError(
        "problem: eval batch_norm needs running statistics (NC_FLAG_TRACK_RUNNING_STATS)");

  if (g.row_op()) {
    if (p->norm_axis < 0 || p->norm_axis >= p->ndim)
      throw ArgumentError("problem: norm_axis " + number(p->norm_axis) + " must lie in [0, " +
                          number(p->ndim - 1) + "]");
    const auto axis = std::size_t(p->norm_axis);
    g.rows = product(shape, 0, axis);
    g.cols = product(shape, axis, rank);
    g.group_count = g.rows;
    g.group_size = g.cols;
    g.param_shape.assign(shape.begin() + std::ptrdiff_t(axis), shape.end());
    g.saved_shape.assign(shape.begin(), shape.begin() + std::ptrdiff_t(axis));
    return g;
  }

  if (rank < 2)
    throw ArgumentError("problem: ndim " + number(p->ndim) +
                        "; channel normalizations need N and C");
  const std::size_t channel_dim = g.layout == NC_LAYOUT_NCHW ? 1 : rank - 1;
  g.batch = shape[0];
  g.channels = shape[channel_dim];
  g.spatial = g.element_count / (g.batch * g.channels);
  g.param_shape = {g.channels};
  g.running_shape = {g.channels};
  switch (g.op) {
    case NC_OP_BATCH_NORM:
      g.groups = 1;
      g.group_count = g.channels;
      g.saved_shape = {g.channels};
      break;
    case NC_OP_INSTANCE_NORM:
      g.groups = g.channels;
      g.group_count = g.batch * g.channels;
      g.saved_shape = {g.batch, g.channels};
      break;
    default:  // group norm
      if (p->groups < 1 || g.channels % p->groups != 0)
        throw ArgumentError("problem: groups " + number(p->groups) +
                            " must be positive and divide " + number(g.channels) + " channels");
      g.groups = p->groups;
      g.group_count = g.batch * g.groups;
      g.saved_shape = {g.batch, g.groups};
      break;
  }
  g.group_size = g.element_count / g.group_count;
  // The count behind the unbiased running variance is checked by
  // check_problem() and resolve_forward(): a SyncBN rank's shard may hold a
  // single value per channel, only the global count must be >= 2.
  return g;
}

}  // namespace normcheck::support
