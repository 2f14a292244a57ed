// Where each element of a normalization problem belongs: its statistic
// group (one saved mean/rstd), its affine parameter (one gamma/beta), its
// channel (one running statistic) and its sample (dim 0). Every op is viewed
// as (n, c, s): bn/in/gn as (N, C, spatial) in either layout, ln/rms as
// (rows, row length, 1) so that "channel" is the position in the row. The
// harness's one element -> group map (op_traits.hpp says how each op groups);
// the reference and the backends keep their own, held to this one by
// harness/fixture/tests/element_map_agreement_test.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "normcheck/model/op_traits.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::model {

class ElementMap {
 public:
  // p.op must be a normalization (not conv_bn); p.shape may be any batch size.
  explicit ElementMap(const model::Problem& p);

  std::int64_t elements() const { return n_ * c_ * s_; }
  std::int64_t groups() const;
  std::int64_t group_size() const { return elements() / groups(); }
  std::int64_t params() const { return c_; }
  // Elements sharing one affine parameter (the length of a dgamma reduction).
  std::int64_t param_reduction() const { return n_ * s_; }
  std::int64_t samples() const { return samples_; }
  std::int64_t channels() const { return c_; }

  std::int64_t group_of(std::int64_t flat) const {
    return group(sample_row(flat), channel_of(flat));
  }
  std::int64_t param_of(std::int64_t flat) const { return channel_of(flat); }
  std::int64_t channel_of(std::int64_t flat) const {
    return channels_last_ ? flat % c_ : (flat / s_) % c_;
  }
  // The running statistic a group is normalized with in eval mode.
  std::int64_t channel_of_group(std::int64_t group) const;

 private:
  std::int64_t sample_row(std::int64_t flat) const {
    return channels_last_ ? flat / (s_ * c_) : flat / (c_ * s_);
  }
  std::int64_t group(std::int64_t row, std::int64_t channel) const;

  Grouping grouping_;
  std::int64_t n_ = 1, c_ = 1, s_ = 1;  // canonical view
  std::int64_t groups_per_sample_ = 1;  // gn
  std::int64_t samples_ = 1;            // dim 0
  bool channels_last_ = false;
};

// Unravels a flat row-major index into a multi-dimensional one.
std::vector<std::int64_t> unravel(std::int64_t flat, const std::vector<std::int64_t>& shape);

}  // namespace normcheck::model
