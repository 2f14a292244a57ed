#include "normcheck/backend/problem_abi.hpp"

#include "normcheck/model/op_traits.hpp"

namespace normcheck::backend {

nc_problem to_abi(const model::Problem& p) {
  nc_problem a{};
  a.struct_size = sizeof(nc_problem);
  switch (p.op) {
    case model::Op::batch_norm: a.op = NC_OP_BATCH_NORM; break;
    case model::Op::layer_norm: a.op = NC_OP_LAYER_NORM; break;
    case model::Op::rms_norm: a.op = NC_OP_RMS_NORM; break;
    case model::Op::group_norm: a.op = NC_OP_GROUP_NORM; break;
    case model::Op::instance_norm: a.op = NC_OP_INSTANCE_NORM; break;
    case model::Op::conv_bn: a.op = NC_OP_CONV_BN_FOLD; break;
  }
  a.layout = p.layout == model::Layout::nchw ? NC_LAYOUT_NCHW : NC_LAYOUT_NHWC;
  a.ndim = int32_t(p.shape.size());
  for (std::size_t i = 0; i < p.shape.size() && i < NC_MAX_DIMS; ++i) a.shape[i] = p.shape[i];
  a.norm_axis = model::traits(p.op).row_op ? p.resolved_norm_axis() : 0;
  a.groups = p.groups;
  a.data_dtype = numeric::to_dlpack(p.data);
  a.param_dtype = numeric::to_dlpack(p.param);
  a.stats_dtype = numeric::to_dlpack(p.stats);
  a.eps = p.eps;
  a.momentum = p.momentum;
  a.momentum_convention = p.momentum_convention == model::MomentumConvention::torch ? NC_MOMENTUM_TORCH : NC_MOMENTUM_PADDLE;
  a.running_var_estimator = p.running_var_estimator == model::VarianceEstimator::unbiased ? NC_VARIANCE_UNBIASED : NC_VARIANCE_BIASED;
  a.mode = p.mode == model::Mode::train ? NC_MODE_TRAIN : p.mode == model::Mode::eval ? NC_MODE_EVAL : NC_MODE_GLOBAL_STATS;
  const auto flag = [](bool on, unsigned bit) { return on ? bit : 0u; };
  a.flags = flag(p.scale, NC_FLAG_SCALE) | flag(p.shift, NC_FLAG_SHIFT) |
            flag(p.track_running_stats, NC_FLAG_TRACK_RUNNING_STATS) | flag(p.residual, NC_FLAG_RESIDUAL);
  return a;
}

}  // namespace normcheck::backend
