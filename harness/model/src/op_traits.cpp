#include "normcheck/model/op_traits.hpp"

#include <array>
#include <stdexcept>

namespace normcheck::model {

namespace {

// clang-format off
constexpr std::array kOps{
  //       op                 short  long             grouping                 row    mean   bwd    track
  OpTraits{Op::batch_norm,    "bn",  "batch_norm",    Grouping::channel,       false, true,  true,  true},
  OpTraits{Op::layer_norm,    "ln",  "layer_norm",    Grouping::row,           true,  true,  true,  false},
  OpTraits{Op::rms_norm,      "rms", "rms_norm",      Grouping::row,           true,  false, true,  false},
  OpTraits{Op::group_norm,    "gn",  "group_norm",    Grouping::channel_group, false, true,  true,  false},
  OpTraits{Op::instance_norm, "in",  "instance_norm", Grouping::instance,      false, true,  true,  true},
  OpTraits{Op::conv_bn,       "cbn", "conv_bn",       Grouping::none,          false, true,  false, false},
};
// clang-format on

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kOps.size(); ++i)
    if (std::size_t(kOps[i].op) != i) return false;
  return true;
}
static_assert(in_enum_order(), "kOps must list the ops in the order of enum Op");

std::int64_t channel_count(const Problem& p) {
  return p.op == Op::conv_bn ? p.conv.out_channels : p.channels();
}

}  // namespace

std::span<const OpTraits> op_table() { return kOps; }

const OpTraits& traits(Op op) {
  if (std::size_t(op) >= kOps.size()) throw std::logic_error("traits: op outside the table");
  return kOps[std::size_t(op)];
}

std::string_view op_name(Op op) { return traits(op).long_name; }
std::string_view op_short_name(Op op) { return traits(op).short_name; }

std::optional<Op> parse_op(std::string_view name) {
  for (const auto& o : kOps)
    if (name == o.short_name || name == o.long_name) return o.op;
  return std::nullopt;
}

std::string op_names_list() {
  std::string s;
  for (const auto& o : kOps)
    s += (s.empty() ? "" : ", ") + std::string(o.short_name) + " (" + std::string(o.long_name) + ")";
  return s;
}

std::vector<std::int64_t> param_shape(const Problem& p) {
  if (traits(p.op).row_op) return {p.shape.begin() + p.resolved_norm_axis(), p.shape.end()};
  return {channel_count(p)};
}

std::vector<std::int64_t> stat_shape(const Problem& p) {
  switch (traits(p.op).grouping) {
    case Grouping::channel:
    case Grouping::none:
      return {channel_count(p)};
    case Grouping::instance:
      return {p.batch(), p.channels()};
    case Grouping::channel_group:
      return {p.batch(), p.groups};
    case Grouping::row:
      return {p.shape.begin(), p.shape.begin() + p.resolved_norm_axis()};
  }
  return {};
}

std::vector<std::int64_t> running_stat_shape(const Problem& p) { return {channel_count(p)}; }

std::vector<std::int64_t> conv_output_shape(const Problem& p) {
  const auto& c = p.conv;
  const std::int64_t oh = (p.shape[2] + 2 * c.pad - c.kernel_h) / c.stride + 1;
  const std::int64_t ow = (p.shape[3] + 2 * c.pad - c.kernel_w) / c.stride + 1;
  return {p.shape[0], c.out_channels, oh, ow};
}

}  // namespace normcheck::model
