#include "normcheck/reference/geometry.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace normcheck::reference {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::invalid_argument("NormGeometry." + field + ": " + why);
}

bool is_channel_op(NormOp op) {
  return op == NormOp::batch_norm || op == NormOp::instance_norm || op == NormOp::group_norm;
}

std::int64_t product(const std::vector<std::int64_t>& v, std::size_t from, std::size_t to) {
  std::int64_t p = 1;
  for (std::size_t i = from; i < to; ++i) p *= v[i];
  return p;
}

}  // namespace

const char* to_string(NormOp op) {
  switch (op) {
    case NormOp::batch_norm:
      return "batch_norm";
    case NormOp::instance_norm:
      return "instance_norm";
    case NormOp::group_norm:
      return "group_norm";
    case NormOp::layer_norm:
      return "layer_norm";
    case NormOp::rms_norm:
      return "rms_norm";
  }
  return "unknown";
}

void NormGeometry::validate() const {
  switch (op) {
    case NormOp::batch_norm:
    case NormOp::instance_norm:
    case NormOp::group_norm:
    case NormOp::layer_norm:
    case NormOp::rms_norm:
      break;
    default:
      bad("op", "not a NormOp value");
  }
  if (shape.empty()) bad("shape", "must have rank >= 1");
  // Products of dims must not overflow int64; 2^40 elements is far beyond any
  // problem an exact reference can evaluate anyway.
  std::int64_t total = 1;
  for (std::int64_t d : shape) {
    if (d < 1) bad("shape", "every dimension must be >= 1");
    if (d > (std::int64_t{1} << 40) || total > (std::int64_t{1} << 40) / d)
      bad("shape", "more than 2^40 elements");
    total *= d;
  }
  if (is_channel_op(op)) {
    if (shape.size() < 2 || shape.size() > 5)
      bad("shape", std::string(to_string(op)) + " needs rank 2..5 (N, C, spatial...)");
    if (op == NormOp::group_norm) {
      if (groups < 1) bad("groups", "must be >= 1");
      if (channels() % groups != 0) bad("groups", "must divide the channel count");
    }
  } else {
    if (norm_axis < 0 || static_cast<std::size_t>(norm_axis) >= shape.size())
      bad("norm_axis", "must be in [0, rank)");
    if (channels_last) bad("channels_last", "only meaningful for batch/instance/group norm");
  }
}

std::int64_t NormGeometry::num_elements() const {
  return product(shape, 0, shape.size());
}

std::int64_t NormGeometry::batch() const {
  return shape.at(0);
}

std::int64_t NormGeometry::channels() const {
  return channels_last ? shape.at(shape.size() - 1) : shape.at(1);
}

std::int64_t NormGeometry::spatial() const {
  return shape.size() < 2 ? 1 : num_elements() / (batch() * channels());
}

CanonicalDims canonical_dims(const NormGeometry& g) {
  g.validate();
  CanonicalDims d;
  d.op = g.op;
  if (is_channel_op(g.op)) {
    d.n = g.batch();
    d.c = g.channels();
    d.s = g.spatial();
    d.channels_last = g.channels_last;
    d.channels_per_group = g.op == NormOp::group_norm ? d.c / g.groups : 1;
  } else {
    const auto k = static_cast<std::size_t>(g.norm_axis);
    d.n = product(g.shape, 0, k);
    d.c = product(g.shape, k, g.shape.size());
    d.s = 1;
    d.channels_per_group = d.c;
  }
  return d;
}

std::int64_t CanonicalDims::group(std::int64_t in, std::int64_t ic) const {
  switch (op) {
    case NormOp::batch_norm:
      return ic;
    case NormOp::instance_norm:
      return in * c + ic;
    case NormOp::group_norm: {
      const std::int64_t g = c / channels_per_group;
      return in * g + ic / channels_per_group;
    }
    case NormOp::layer_norm:
    case NormOp::rms_norm:
      return in;
  }
  return -1;
}

std::int64_t CanonicalDims::num_groups() const {
  switch (op) {
    case NormOp::batch_norm:
      return c;
    case NormOp::instance_norm:
      return n * c;
    case NormOp::group_norm:
      return n * (c / channels_per_group);
    case NormOp::layer_norm:
    case NormOp::rms_norm:
      return n;
  }
  return 0;
}

GroupBox group_box(const CanonicalDims& d, std::int64_t group) {
  switch (d.op) {
    case NormOp::batch_norm:
      return {0, d.n, group, group + 1};
    case NormOp::instance_norm:
      return {group / d.c, group / d.c + 1, group % d.c, group % d.c + 1};
    case NormOp::group_norm: {
      const std::int64_t per_sample = d.c / d.channels_per_group;
      const std::int64_t in = group / per_sample, ig = group % per_sample;
      return {in, in + 1, ig * d.channels_per_group, (ig + 1) * d.channels_per_group};
    }
    case NormOp::layer_norm:
    case NormOp::rms_norm:
      return {group, group + 1, 0, d.c};
  }
  return {0, 0, 0, 0};
}

std::int64_t NormGeometry::num_groups() const {
  return canonical_dims(*this).num_groups();
}

std::int64_t NormGeometry::num_params() const {
  return canonical_dims(*this).c;
}

std::int64_t NormGeometry::group_size() const {
  const CanonicalDims d = canonical_dims(*this);
  return d.n * d.c * d.s / d.num_groups();
}

namespace {
void check_flat(const CanonicalDims& d, std::int64_t flat) {
  if (flat < 0 || flat >= d.n * d.c * d.s)
    throw std::invalid_argument("NormGeometry flat index: out of range");
}
}  // namespace

std::int64_t NormGeometry::param_of(std::int64_t flat) const {
  const CanonicalDims d = canonical_dims(*this);
  check_flat(d, flat);
  return d.channels_last ? flat % d.c : (flat / d.s) % d.c;
}

std::int64_t NormGeometry::group_of(std::int64_t flat) const {
  const CanonicalDims d = canonical_dims(*this);
  check_flat(d, flat);
  const std::int64_t ic = d.channels_last ? flat % d.c : (flat / d.s) % d.c;
  const std::int64_t in = flat / (d.c * d.s);
  return d.group(in, ic);
}

}  // namespace normcheck::reference
