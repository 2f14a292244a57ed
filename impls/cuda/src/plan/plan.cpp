#include "normcheck/cuda/plan.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "normcheck/support/geometry.hpp"
#include "normcheck/support/status.hpp"

namespace normcheck::cuda {

namespace {

using support::Unsupported;

RowNormPlan plan_row_norm(const nc_problem& p, const support::Geometry& g) {
  RowNormPlan r;
  r.rms = p.op == NC_OP_RMS_NORM;
  r.rows = g.rows;
  r.hidden = g.cols;
  r.data = g.data;
  r.param = g.param;
  r.stats = g.stats;
  r.scale = (p.flags & NC_FLAG_SCALE) != 0;
  r.shift = (p.flags & NC_FLAG_SHIFT) != 0;
  r.residual = (p.flags & NC_FLAG_RESIDUAL) != 0;
  r.eps = p.eps;
  // The row kernels are compiled for gamma/beta of the data dtype, or f32
  // with 16-bit data (the usual mixed-precision pairing); other pairings
  // would multiply the instantiations for no user.
  const bool same = r.param == r.data;
  const bool f32_with_16bit = r.param == DType::f32 && numeric::dtype_size(r.data) == 2;
  if (!same && !f32_with_16bit)
    throw Unsupported(std::string(r.rms ? "rms_norm" : "layer_norm") + " with " +
                      std::string(numeric::dtype_name(r.data)) + " data and " +
                      std::string(numeric::dtype_name(r.param)) +
                      " gamma/beta: the cuda backend pairs data with gamma/beta of the same "
                      "dtype, or f32 gamma/beta with f16/bf16 data");
  if (r.rows > std::numeric_limits<std::int32_t>::max())
    throw Unsupported(std::to_string(r.rows) +
                      " rows: the cuda backend launches one block per row, at most 2^31-1");
  return r;
}

ChannelNormPlan plan_channel_norm(const nc_problem& p, const support::Geometry& g) {
  ChannelNormPlan c;
  c.op = p.op == NC_OP_BATCH_NORM      ? ChannelOp::batch
         : p.op == NC_OP_INSTANCE_NORM ? ChannelOp::instance
                                       : ChannelOp::group;
  c.n = g.batch;
  c.c = g.channels;
  c.s = g.spatial;
  c.channels_last = p.layout == NC_LAYOUT_NHWC || c.s == 1;
  c.groups = g.groups;
  c.data = g.data;
  c.param = g.param;
  c.stats = g.stats;
  c.scale = (p.flags & NC_FLAG_SCALE) != 0;
  c.shift = (p.flags & NC_FLAG_SHIFT) != 0;
  c.track_running_stats = (p.flags & NC_FLAG_TRACK_RUNNING_STATS) != 0;
  c.eps = p.eps;
  c.momentum = p.momentum;
  c.momentum_convention = p.momentum_convention;
  c.estimator = p.running_var_estimator;
  c.mode = p.mode;
  if (c.channels_last && (c.c + 31) / 32 > 65535)
    throw Unsupported(std::to_string(c.c) +
                      " channels: the cuda backend's channels-last kernels take at most 2,097,120");
  if (c.stat_groups() > std::numeric_limits<std::int32_t>::max() ||
      c.c > std::numeric_limits<std::int32_t>::max())
    throw Unsupported("more than 2^31-1 statistic groups or channels");
  return c;
}

}  // namespace

bool ChannelNormPlan::has_running_stats() const {
  return op == ChannelOp::batch || (op == ChannelOp::instance && track_running_stats);
}

bool ChannelNormPlan::stats_from_running() const {
  return mode != NC_MODE_TRAIN && has_running_stats();
}

bool ChannelNormPlan::updates_running_stats() const {
  return mode == NC_MODE_TRAIN && has_running_stats() && track_running_stats;
}

std::int64_t ChannelNormPlan::channels_per_group() const {
  return op == ChannelOp::group ? c / groups : 1;
}

std::int64_t ChannelNormPlan::stat_groups() const {
  return op == ChannelOp::batch ? c : n * groups;
}

std::int64_t ChannelNormPlan::group_size() const {
  return op == ChannelOp::batch ? n * s : channels_per_group() * s;
}

Plan make_plan(const nc_problem* problem) {
  const support::Geometry g = support::geometry_of(problem);
  if (g.row_op()) return plan_row_norm(*problem, g);
  return plan_channel_norm(*problem, g);
}

int vector_width(DType t) {
  return int(16 / numeric::dtype_size(t));
}

namespace {

// 32-bit words each thread may hold per row array. The forward holds one
// array (the row), the backward four (x-hat, gamma*dy and the dgamma/dbeta
// accumulators), so its rows get fewer words; beyond this the compiler
// would spill to local memory under the 512-thread launch bound.
constexpr int kForwardRowRegisters = 32;
constexpr int kBackwardRowRegisters = 16;
constexpr int kPreferredThreads = 256;
constexpr int kMaxThreads = 512;
// The forward runs one row per block, so the bytes each thread loads before
// its first reduction bound how much of the row is in flight per SM: on an
// H200, 16 bytes per thread (one vector) reached 40 % of the copy bandwidth
// on 8192x1024 bf16, 64 bytes 85-94 % on f32 rows. The forward therefore
// starts at 4 vectors per thread (fewer threads, smaller blocks, more of
// them per SM). The backward keeps 1: its blocks loop over rows holding
// dgamma/dbeta accumulators, so registers, not loads, are what it runs out of.
constexpr int kForwardMinVectors = 4;
constexpr int kBackwardMinVectors = 1;

RowConfig row_config(std::int64_t hidden, DType data, bool aligned, int register_budget,
                     int min_vectors) {
  RowConfig cfg;
  cfg.vec = vector_width(data);
  const int words_per_element = data == DType::f64 ? 2 : 1;
  const int max_elements = register_budget / words_per_element;
  const int first_k = std::max(1, std::min(min_vectors, max_elements / cfg.vec));
  if (aligned && hidden % cfg.vec == 0) {
    const std::int64_t vectors = hidden / cfg.vec;
    for (int limit : {kPreferredThreads, kMaxThreads}) {
      for (int k : {1, 2, 4, 8}) {
        if (k < first_k) continue;
        if (k * cfg.vec > max_elements) break;
        const std::int64_t threads = (vectors + k - 1) / k;
        if (threads <= limit) {
          cfg.cached = true;
          cfg.vecs_per_thread = k;
          cfg.threads = int(std::max<std::int64_t>(32, (threads + 31) / 32 * 32));
          return cfg;
        }
      }
    }
  }
  cfg.cached = false;
  cfg.vec = 1;
  cfg.vecs_per_thread = 1;
  cfg.threads = int(std::clamp<std::int64_t>((hidden + 31) / 32 * 32, 32, kMaxThreads));
  return cfg;
}

}  // namespace

RowConfig row_forward_config(std::int64_t hidden, DType data, bool aligned) {
  return row_config(hidden, data, aligned, kForwardRowRegisters, kForwardMinVectors);
}

RowConfig row_backward_config(std::int64_t hidden, DType data, bool aligned) {
  return row_config(hidden, data, aligned, kBackwardRowRegisters, kBackwardMinVectors);
}

std::int64_t row_param_parts(std::int64_t rows, std::int64_t hidden) {
  // Long rows: 256 partial rows, one or two blocks per SM of a 132-SM GPU,
  // which is all their registers allow. Short rows have small blocks: 256 of them
  // left an H200 a quarter full (8192x1024 bf16 backward at 16 % of the
  // copy bandwidth), so they get up to 1024, as many as keep the partials
  // (2^20 columns x 8 bytes, written and read once) a small share of the
  // traffic. A function of the shape only: the bits of dgamma/dbeta do not
  // depend on the device.
  constexpr std::int64_t kPartialColumns = std::int64_t(1) << 20;
  const std::int64_t wanted =
      std::clamp<std::int64_t>(kPartialColumns / std::max<std::int64_t>(hidden, 1), 256, 1024);
  return std::min<std::int64_t>(rows, wanted);
}

ChannelPartialLayout channel_partial_layout(const ChannelNormPlan& plan) {
  ChannelPartialLayout l;
  l.column_view = plan.channels_last;
  if (l.column_view) {
    const bool one_segment = plan.op == ChannelOp::batch;
    l.segments = one_segment ? 1 : plan.n;
    l.length = one_segment ? plan.n * plan.s : plan.s;
    l.chunk = 256;  // rows per 32x8 block: 32 per thread
    l.parts = (l.length + l.chunk - 1) / l.chunk;
    l.n_stride = l.parts * plan.c;
    l.c_stride = 1;
    l.part_stride = plan.c;
  } else {
    l.segments = plan.n;
    l.length = plan.s;
    l.chunk = 4096;  // elements per warp: 128 per lane
    l.parts = (l.length + l.chunk - 1) / l.chunk;
    l.n_stride = plan.c * l.parts;
    l.c_stride = l.parts;
    l.part_stride = 1;
  }
  return l;
}

int channel_apply_vec(const ChannelNormPlan& plan, bool aligned) {
  const int v = vector_width(plan.data);
  if (!aligned) return 1;
  const std::int64_t run = plan.channels_last ? plan.c : plan.s;
  return run % v == 0 ? v : 1;
}

}  // namespace normcheck::cuda
