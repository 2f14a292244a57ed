#include "normcheck/bench/workload.hpp"

#include "normcheck/model/op_traits.hpp"

#include <fmt/format.h>

namespace normcheck::bench {

std::string_view direction_name(Direction d) {
  return d == Direction::forward ? "fwd" : "bwd";
}

double traffic_bytes(const model::Problem& p, Direction direction) {
  const double elements = double(p.element_count());
  const double data = double(numeric::dtype_size(p.data));
  const double params = double(p.param_count()) * double(numeric::dtype_size(p.param));
  const double stats = double(p.stat_group_count()) * double(numeric::dtype_size(p.stats));
  const bool row_op = model::traits(p.op).row_op;
  const double affine = double(p.scale) + double(p.shift);
  double tensors = 0.0, small = 0.0;
  if (direction == Direction::forward) {
    tensors = row_op ? 2.0 : 3.0;
    small = affine * params + 2.0 * stats;  // gamma, beta read; saved mean, rstd written
    if (p.has_running_stats())
      small += 4.0 * double(p.channels()) * double(numeric::dtype_size(p.stats));
  } else {
    tensors = row_op ? 3.0 : 5.0;
    small = 3.0 * params + 2.0 * stats;  // gamma read, dgamma and dbeta written; saved read
  }
  return tensors * elements * data + small;
}

model::Problem bench_problem(model::Op op, numeric::DType dtype) {
  model::Problem p;
  p.op = op;
  p.data = dtype;
  p.param = dtype;
  p.stats = numeric::dtype_size(dtype) == 2 ? numeric::DType::f32 : dtype;
  p.mode = model::Mode::train;
  p.track_running_stats = op == model::Op::batch_norm;
  if (op == model::Op::group_norm) p.groups = 32;
  return p;
}

std::vector<Workload> workloads_for(model::Op op, numeric::DType dtype, int scale) {
  std::vector<model::Problem> problems;
  const std::int64_t s = std::max(1, scale);
  if (model::traits(op).row_op) {
    for (std::int64_t cols : {768, 4096}) {
      auto p = bench_problem(op, dtype);
      p.shape = {std::max<std::int64_t>(1, 8192 / s), cols};
      problems.push_back(p);
    }
  } else {
    for (const auto layout : {model::Layout::nchw, model::Layout::nhwc}) {
      auto p = bench_problem(op, dtype);
      p.layout = layout;
      const std::int64_t n = std::max<std::int64_t>(2, 32 / s);
      p.shape = layout == model::Layout::nchw ? std::vector<std::int64_t>{n, 256, 28, 28}
                                              : std::vector<std::int64_t>{n, 28, 28, 256};
      problems.push_back(p);
    }
  }
  std::vector<Workload> out;
  for (const auto& p : problems) {
    model::validate(p);
    std::string label = fmt::format("{}", fmt::join(p.shape, "x"));
    if (!model::traits(op).row_op)
      label += p.layout == model::Layout::nchw ? " nchw" : " nhwc";
    for (const auto d : {Direction::forward, Direction::backward})
      out.push_back({p, d, label, traffic_bytes(p, d)});
  }
  return out;
}

}  // namespace normcheck::bench
