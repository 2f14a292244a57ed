// Visits every element of a normalization in memory order together with
// its statistic group and its parameter (gamma/beta) index. The simplest
// correct way through any op and layout; the naive backend and the tests'
// oracles use it, the cpu backend has specialized loops instead.
#pragma once

#include <cstdint>

#include "normcheck/support/geometry.hpp"

namespace normcheck::support {

// visit(index, group, param) for every element.
template <class Visit>
void for_each_element(const Geometry& g, Visit&& visit) {
  if (g.row_op()) {
    for (std::int64_t r = 0; r < g.rows; ++r)
      for (std::int64_t j = 0; j < g.cols; ++j) visit(r * g.cols + j, r, j);
    return;
  }
  const std::int64_t C = g.channels, S = g.spatial, per_group = g.channels_per_group();
  const auto group_of = [&](std::int64_t n, std::int64_t c) -> std::int64_t {
    switch (g.op) {
      case NC_OP_BATCH_NORM:
        return c;
      case NC_OP_INSTANCE_NORM:
        return n * C + c;
      default:
        return n * g.groups + c / per_group;
    }
  };
  for (std::int64_t n = 0; n < g.batch; ++n) {
    if (g.layout == NC_LAYOUT_NCHW) {
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t s = 0; s < S; ++s) visit((n * C + c) * S + s, group_of(n, c), c);
    } else {
      for (std::int64_t s = 0; s < S; ++s)
        for (std::int64_t c = 0; c < C; ++c) visit((n * S + s) * C + c, group_of(n, c), c);
    }
  }
}

// Number of gamma/beta values.
inline std::int64_t param_count(const Geometry& g) {
  return g.row_op() ? g.cols : g.channels;
}

}  // namespace normcheck::support
