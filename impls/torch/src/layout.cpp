#include "layout.hpp"

#include <cstring>

namespace normcheck::torch_adapter {

LogicalView logical_view(const support::Geometry& g) {
  const auto& shape = g.data_shape;
  const std::size_t rank = shape.size();
  LogicalView v;
  v.strides.assign(rank, 0);
  // Row-major strides of the buffer in memory order.
  std::vector<std::int64_t> memory_strides(rank, 1);
  for (std::size_t d = rank - 1; d > 0; --d) memory_strides[d - 1] = memory_strides[d] * shape[d];
  if (!g.channel_op() || g.layout == NC_LAYOUT_NCHW || rank <= 2) {
    v.sizes = shape;
    v.strides = memory_strides;
    return v;
  }
  // Memory (N, s1..sk, C) -> logical (N, C, s1..sk).
  v.sizes = {shape[0], shape[rank - 1]};
  v.strides = {memory_strides[0], memory_strides[rank - 1]};
  for (std::size_t d = 1; d + 1 < rank; ++d) {
    v.sizes.push_back(shape[d]);
    v.strides.push_back(memory_strides[d]);
  }
  return v;
}

std::vector<std::int64_t> normalized_shape(const support::Geometry& g) {
  return g.param_shape;
}

void copy_dresidual(const support::BackwardCall& c) {
  if (c.dresidual == nullptr || c.dresidual == c.dx) return;
  std::memcpy(c.dresidual, c.dx,
              std::size_t(c.geo.element_count) * numeric::dtype_size(c.geo.data));
}

}  // namespace normcheck::torch_adapter
