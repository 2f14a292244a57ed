#include "normcheck/model/problem.hpp"

#include "normcheck/backend.h"  // NC_MAX_DIMS

#include "normcheck/model/op_traits.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

namespace normcheck::model {

namespace {

bool is_channel_op(Op op) { return !traits(op).row_op; }

int channel_dim(const Problem& p) {
  return p.layout == Layout::nchw ? 1 : int(p.shape.size()) - 1;
}

std::int64_t product(const std::vector<std::int64_t>& v, std::size_t begin, std::size_t end) {
  std::int64_t r = 1;
  for (std::size_t i = begin; i < end; ++i) r *= v[i];
  return r;
}

}  // namespace

std::int64_t Problem::channels() const {
  if (!is_channel_op(op) || shape.size() < 2) return 0;
  return shape[std::size_t(channel_dim(*this))];
}

std::int64_t Problem::spatial_size() const {
  if (shape.size() < 2) return 1;
  return element_count() / (shape[0] * (is_channel_op(op) ? channels() : shape[1]));
}

std::int64_t Problem::element_count() const { return product(shape, 0, shape.size()); }

int Problem::resolved_norm_axis() const {
  return norm_axis < 0 ? int(shape.size()) - 1 : norm_axis;
}

std::int64_t Problem::stat_group_count() const {
  switch (traits(op).grouping) {
    case Grouping::channel:
    case Grouping::none: return channels();
    case Grouping::instance: return batch() * channels();
    case Grouping::channel_group: return batch() * groups;
    case Grouping::row: return product(shape, 0, std::size_t(resolved_norm_axis()));
  }
  return 0;
}

std::int64_t Problem::stat_group_size() const {
  const std::int64_t g = stat_group_count();
  return g == 0 ? 0 : element_count() / g;
}

std::int64_t Problem::param_count() const {
  if (traits(op).row_op) return product(shape, std::size_t(resolved_norm_axis()), shape.size());
  return channels();
}

bool Problem::has_running_stats() const {
  return op == Op::batch_norm || (op == Op::instance_norm && track_running_stats);
}

void validate(const Problem& p) {
  const int rank = int(p.shape.size());
  if (rank == 0) throw ProblemError("shape", "is empty");
  if (rank > NC_MAX_DIMS) throw ProblemError("shape", fmt::format("has {} dims, at most {}", rank, NC_MAX_DIMS));
  std::int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    if (p.shape[std::size_t(i)] <= 0)
      throw ProblemError("shape", fmt::format("dim {} is {}, must be positive", i, p.shape[std::size_t(i)]));
    if (__builtin_mul_overflow(count, p.shape[std::size_t(i)], &count))
      throw ProblemError("shape", "element count overflows a 64-bit integer");
  }
  if (!(p.eps >= 0.0) || !std::isfinite(p.eps)) throw ProblemError("eps", fmt::format("is {}, must be finite and >= 0", p.eps));
  if (!(p.momentum >= 0.0 && p.momentum <= 1.0)) throw ProblemError("mom", fmt::format("is {}, must lie in [0, 1]", p.momentum));
  if (p.seed > (std::uint64_t(1) << 53)) throw ProblemError("seed", "must be at most 2^53");

  const bool ln_like = traits(p.op).row_op;
  if (ln_like) {
    const int axis = p.resolved_norm_axis();
    if (axis < 0 || axis >= rank)
      throw ProblemError("axis", fmt::format("is {}, must lie in [0, {}] for a rank-{} shape", p.norm_axis, rank - 1, rank));
    if (p.layout != Layout::nchw) throw ProblemError("layout", "applies to bn/gn/in/cbn only");
  } else {
    if (p.norm_axis != -1) throw ProblemError("axis", "applies to ln/rms only");
    if (rank < 2 || rank > 5) throw ProblemError("shape", fmt::format("has rank {}; {} needs N, C and 0-3 spatial dims", rank, op_short_name(p.op)));
  }
  if (p.residual && !ln_like) throw ProblemError("res", "the fused residual applies to ln/rms only");

  if (p.op == Op::group_norm) {
    if (p.groups < 1) throw ProblemError("g", "must be at least 1");
    if (p.channels() % p.groups != 0)
      throw ProblemError("g", fmt::format("{} groups do not divide {} channels", p.groups, p.channels()));
  } else if (p.groups != 1) {
    throw ProblemError("g", "applies to gn only");
  }

  if (p.track_running_stats && !traits(p.op).can_track_running_stats)
    throw ProblemError("track", "running statistics exist for bn and in only");
  const bool stats_from_running = p.mode != Mode::train &&
      p.has_running_stats();
  if (p.mode == Mode::global_stats && !stats_from_running)
    throw ProblemError("mode", "global (use_global_stats) needs running statistics: bn, or in with track=1");
  if (p.op == Op::batch_norm && p.mode != Mode::train && !p.track_running_stats)
    throw ProblemError("mode", "eval batch norm needs running statistics (track=1)");

  if (p.mode == Mode::train) {
    if (p.op == Op::batch_norm && p.stat_group_size() < 2)
      throw ProblemError("shape", "batch norm training needs more than one value per channel (N * spatial >= 2)");
    if (p.op == Op::instance_norm && p.track_running_stats && p.stat_group_size() < 2)
      throw ProblemError("shape", "tracked instance norm training needs more than one spatial element");
  }

  if (p.steps < 1) throw ProblemError("steps", "must be at least 1");
  // Each step is a dataset of the whole input: the bound keeps a case's
  // dataset list small whatever a file says.
  if (p.steps > kMaxSteps) throw ProblemError("steps", fmt::format("must be at most {}", kMaxSteps));
  if (p.steps > 1 && !(p.has_running_stats() && p.mode == Mode::train))
    throw ProblemError("steps", "a training trajectory needs a training problem with running statistics");

  if (!p.shards.empty()) {
    if (p.op != Op::batch_norm || p.mode != Mode::train)
      throw ProblemError("shards", "SyncBatchNorm shards apply to bn training only");
    std::int64_t total = 0;
    for (auto s : p.shards) {
      if (s < 1) throw ProblemError("shards", "every shard needs at least one sample");
      if (__builtin_add_overflow(total, s, &total)) throw ProblemError("shards", "sizes overflow");
    }
    if (total != p.batch())
      throw ProblemError("shards", fmt::format("sizes sum to {}, but the batch N is {}", total, p.batch()));
  }

  if (p.op == Op::conv_bn) {
    if (rank != 4 || p.layout != Layout::nchw) throw ProblemError("shape", "cbn takes an NCHW conv input of rank 4");
    const auto& c = p.conv;
    if (c.out_channels < 1) throw ProblemError("oc", "must be at least 1");
    if (c.kernel_h < 1 || c.kernel_w < 1) throw ProblemError("k", "kernel dims must be positive");
    if (c.stride < 1) throw ProblemError("stride", "must be at least 1");
    if (c.pad < 0) throw ProblemError("pad", "must be >= 0");
    // Bounded so that the output shape's arithmetic cannot overflow.
    for (const auto& [field, v] : {std::pair<const char*, std::int64_t>{"oc", c.out_channels},
                                   {"k", c.kernel_h}, {"k", c.kernel_w}, {"stride", c.stride},
                                   {"pad", c.pad}})
      if (v > kMaxConvParameter) throw ProblemError(field, fmt::format("must be at most {}", kMaxConvParameter));
    if (p.shape[2] + 2 * c.pad < c.kernel_h || p.shape[3] + 2 * c.pad < c.kernel_w)
      throw ProblemError("k", "kernel is larger than the padded input");
    if (p.mode != Mode::eval) throw ProblemError("mode", "Conv-BN folding is an eval-mode transformation");
  } else if (p.conv.out_channels != 0) {
    throw ProblemError("oc", "applies to cbn only");
  }
}

}  // namespace normcheck::model
