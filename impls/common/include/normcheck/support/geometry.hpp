// What a backend needs to know about the shape of an nc_problem: the
// statistic groups, the parameter and statistics shapes, and which
// statistics the mode uses. Built once per call from the problem, which is
// validated on the way (ArgumentError / Unsupported naming the field).
#pragma once

#include <cstdint>
#include <vector>

#include "normcheck/backend.h"
#include "normcheck/numeric/dtype.hpp"

namespace normcheck::support {

using numeric::DType;

struct Geometry {
  nc_op op = NC_OP_LAYER_NORM;
  nc_layout layout = NC_LAYOUT_NCHW;
  std::vector<std::int64_t> data_shape;  // memory order

  // bn / in / gn: batch, channels, product of the spatial dims, groups
  // (gn: G; in: C; bn: 1).
  std::int64_t batch = 1, channels = 1, spatial = 1, groups = 1;
  // ln / rms: rows = product of shape[:axis], cols = product of shape[axis:].
  std::int64_t rows = 1, cols = 1;

  std::int64_t element_count = 1;
  std::int64_t group_count = 1;  // statistics: bn C, in N*C, gn N*G, ln/rms rows
  std::int64_t group_size = 1;   // elements behind one statistic

  std::vector<std::int64_t> param_shape;    // gamma, beta, dgamma, dbeta
  std::vector<std::int64_t> saved_shape;    // saved_mean, saved_rstd
  std::vector<std::int64_t> running_shape;  // running_mean, running_var (C)

  DType data = DType::f32, param = DType::f32, stats = DType::f32;

  bool channel_op() const {
    return op == NC_OP_BATCH_NORM || op == NC_OP_GROUP_NORM || op == NC_OP_INSTANCE_NORM;
  }
  bool row_op() const { return op == NC_OP_LAYER_NORM || op == NC_OP_RMS_NORM; }
  std::int64_t channels_per_group() const { return channels / groups; }
};

// Validates the problem and derives its geometry. Throws ArgumentError for
// an impossible problem, Unsupported for a dtype outside f64/f32/f16/bf16.
// conv_bn_fold problems take fold_geometry() instead.
Geometry geometry_of(const nc_problem* problem);

// The problem-level checks shared by every op (struct size, dtypes, eps,
// momentum, enums); returns the three dtypes through the geometry fields.
void check_problem_header(const nc_problem* problem, Geometry& g);

// True when the statistics come from running_mean/running_var: eval or
// global-stats mode of batch norm and of instance norm with tracked stats.
bool uses_running_stats(const nc_problem& problem);

// True when a training forward updates running_mean/running_var.
bool updates_running_stats(const nc_problem& problem);

}  // namespace normcheck::support
