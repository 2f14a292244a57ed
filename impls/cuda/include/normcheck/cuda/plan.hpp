// What the CUDA backend makes of an nc_problem: the op reduced to one of a
// few canonical forms (rows for layer/rms norm, (N, C, S) for the channel
// ops), plus the launch configurations whose choice fixes every reduction
// tree. Pure C++ (no CUDA), so the decisions that determinism and batch
// invariance rest on are tested on any machine.
#pragma once

#include <cstdint>
#include <variant>

#include "normcheck/backend.h"
#include "normcheck/numeric/dtype.hpp"

namespace normcheck::cuda {

using numeric::DType;

// layer_norm / rms_norm: `rows` independent rows of `hidden` elements.
struct RowNormPlan {
  bool rms = false;
  std::int64_t rows = 0;
  std::int64_t hidden = 0;
  DType data = DType::f32, param = DType::f32, stats = DType::f32;
  bool scale = true, shift = true, residual = false;
  double eps = 1e-5;
};

enum class ChannelOp { batch, instance, group };

// batch/instance/group norm on the canonical (N, C, S) view. With
// channels_last the memory is (N, S, C); an NCHW tensor with S == 1 is the
// same memory as NHWC and is planned as channels_last.
struct ChannelNormPlan {
  ChannelOp op = ChannelOp::batch;
  bool channels_last = false;
  std::int64_t n = 0, c = 0, s = 0;
  std::int64_t groups = 1;  // group norm's G; C for instance norm; 1 for batch norm
  DType data = DType::f32, param = DType::f32, stats = DType::f32;
  bool scale = true, shift = true, track_running_stats = false;
  double eps = 1e-5, momentum = 0.1;
  nc_momentum_convention momentum_convention = NC_MOMENTUM_TORCH;
  nc_variance_estimator estimator = NC_VARIANCE_UNBIASED;
  nc_mode mode = NC_MODE_TRAIN;

  bool has_running_stats() const;      // bn, or tracked in
  bool stats_from_running() const;     // eval / global stats with running stats
  bool updates_running_stats() const;  // a training step that tracks them
  std::int64_t channels_per_group() const;
  std::int64_t stat_groups() const;  // bn: C; in: N*C; gn: N*G
  std::int64_t group_size() const;   // elements reduced per statistic
  std::int64_t elements() const { return n * c * s; }
};

using Plan = std::variant<RowNormPlan, ChannelNormPlan>;

// Validates the problem through the shared support::geometry_of (throwing
// support::ArgumentError / support::Unsupported with the same messages as
// every built-in backend), then declines what this backend does not
// implement (support::Unsupported). Not for conv_bn_fold problems.
Plan make_plan(const nc_problem* problem);

// Elements per 16-byte vector access of dtype t.
int vector_width(DType t);

// How one layer/rms norm row is reduced: held in registers and read with
// 16-byte vectors (cached), or streamed with scalar accesses (fallback). A
// function of the row length, the dtype and pointer alignment, never of the
// row count: so a row's result does not depend on the batch it came in.
struct RowConfig {
  bool cached = false;
  int vec = 1;              // elements per vector access
  int vecs_per_thread = 1;  // vectors each thread holds (cached)
  int threads = 32;         // block size, a multiple of 32
};
RowConfig row_forward_config(std::int64_t hidden, DType data, bool aligned);
RowConfig row_backward_config(std::int64_t hidden, DType data, bool aligned);

// Blocks of the backward kernel, each summing dgamma/dbeta over a fixed,
// strided subset of rows into its own partial row; the partial rows are then
// summed in block order. A function of the row count and length only.
std::int64_t row_param_parts(std::int64_t rows, std::int64_t hidden);

// How the channel ops' first reduction stage splits the data into partial
// statistics, and where partial (n, c, part) lives in the partial arrays.
//   run view (channels first): cell (n, c) is a contiguous run of S
//     elements, split into `parts` chunks of `chunk` elements; one warp each.
//   column view (channels last): segment n is `rows` rows of C channels
//     (batch norm: one segment of N*S rows), split into `parts` chunks of
//     `chunk` rows; one 32x8 block per 32 channels of a chunk.
struct ChannelPartialLayout {
  bool column_view = false;
  std::int64_t segments = 0;  // run view: N; column view: 1 (bn) or N
  std::int64_t length = 0;    // run view: S; column view: rows per segment
  std::int64_t chunk = 0;
  std::int64_t parts = 0;
  std::int64_t n_stride = 0, c_stride = 0, part_stride = 0;
  std::int64_t entries() const { return n_stride * segments; }
  std::int64_t index(std::int64_t n, std::int64_t c, std::int64_t part) const {
    return n * n_stride + c * c_stride + part * part_stride;
  }
};
ChannelPartialLayout channel_partial_layout(const ChannelNormPlan& plan);

// Elements per vector access of the elementwise channel kernels: a vector
// must stay within one (n, c) run (channels first) or cover consecutive
// channels of one position (channels last).
int channel_apply_vec(const ChannelNormPlan& plan, bool aligned);

}  // namespace normcheck::cuda
