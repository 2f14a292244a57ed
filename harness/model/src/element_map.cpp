#include "normcheck/model/element_map.hpp"

#include <stdexcept>

namespace normcheck::model {

ElementMap::ElementMap(const Problem& p) : grouping_(traits(p.op).grouping) {
  if (grouping_ == Grouping::none)
    throw std::invalid_argument("ElementMap: conv_bn has no statistic groups");
  samples_ = p.batch();
  if (grouping_ == Grouping::row) {
    const auto axis = std::size_t(p.resolved_norm_axis());
    n_ = 1;
    for (std::size_t i = 0; i < axis; ++i) n_ *= p.shape[i];
    c_ = 1;
    for (std::size_t i = axis; i < p.shape.size(); ++i) c_ *= p.shape[i];
    s_ = 1;
    return;
  }
  channels_last_ = p.layout == Layout::nhwc;
  n_ = p.batch();
  c_ = p.channels();
  s_ = p.element_count() / (n_ * c_);
  if (grouping_ == Grouping::channel_group) groups_per_sample_ = p.groups;
}

std::int64_t ElementMap::groups() const {
  switch (grouping_) {
    case Grouping::channel:
      return c_;
    case Grouping::instance:
      return n_ * c_;
    case Grouping::channel_group:
      return n_ * groups_per_sample_;
    case Grouping::row:
    case Grouping::none:
      break;
  }
  return n_;  // one group per row
}

std::int64_t ElementMap::group(std::int64_t row, std::int64_t channel) const {
  switch (grouping_) {
    case Grouping::channel:
      return channel;
    case Grouping::instance:
      return row * c_ + channel;
    case Grouping::channel_group:
      return row * groups_per_sample_ + channel / (c_ / groups_per_sample_);
    case Grouping::row:
    case Grouping::none:
      break;
  }
  return row;
}

std::int64_t ElementMap::channel_of_group(std::int64_t g) const {
  return grouping_ == Grouping::instance ? g % c_ : g;
}

std::vector<std::int64_t> unravel(std::int64_t flat, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> index(shape.size(), 0);
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

}  // namespace normcheck::model
