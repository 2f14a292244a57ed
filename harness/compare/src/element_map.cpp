#include "normcheck/compare/element_map.hpp"

#include <stdexcept>

namespace normcheck::compare {

using model::Op;

ElementMap::ElementMap(const model::Problem& p) : op_(p.op) {
  if (p.op == Op::conv_bn)
    throw std::invalid_argument("ElementMap: conv_bn has no statistic groups");
  samples_ = p.batch();
  if (p.op == Op::layer_norm || p.op == Op::rms_norm) {
    const auto axis = std::size_t(p.resolved_norm_axis());
    n_ = 1;
    for (std::size_t i = 0; i < axis; ++i) n_ *= p.shape[i];
    c_ = 1;
    for (std::size_t i = axis; i < p.shape.size(); ++i) c_ *= p.shape[i];
    s_ = 1;
    return;
  }
  channels_last_ = p.layout == model::Layout::nhwc;
  n_ = p.batch();
  c_ = p.channels();
  s_ = p.element_count() / (n_ * c_);
  if (p.op == Op::group_norm) groups_per_sample_ = p.groups;
}

std::int64_t ElementMap::groups() const {
  switch (op_) {
    case Op::batch_norm:
      return c_;
    case Op::instance_norm:
      return n_ * c_;
    case Op::group_norm:
      return n_ * groups_per_sample_;
    default:
      return n_;  // ln/rms: one group per row
  }
}

std::int64_t ElementMap::group(std::int64_t row, std::int64_t channel) const {
  switch (op_) {
    case Op::batch_norm:
      return channel;
    case Op::instance_norm:
      return row * c_ + channel;
    case Op::group_norm:
      return row * groups_per_sample_ + channel / (c_ / groups_per_sample_);
    default:
      return row;
  }
}

std::int64_t ElementMap::channel_of_group(std::int64_t g) const {
  return op_ == Op::instance_norm ? g % c_ : g;
}

std::vector<std::int64_t> unravel(std::int64_t flat, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> index(shape.size(), 0);
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

}  // namespace normcheck::compare
