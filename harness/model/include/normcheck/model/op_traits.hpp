// What each op is, in one table: its names, how its elements form statistic
// groups, whether it has a mean and a backward, and the shapes of its
// statistics and parameters. Every part of the harness asks here instead of
// re-deriving it from the op; adding an op is a row here (and its grouping in
// element_map.hpp when it groups elements a new way).
//
// The reference (reference/) and the backends (impls/) keep their own
// geometry on purpose: they are the independent implementations the harness
// checks (harness/fixture/tests/element_map_agreement_test.cpp holds them to it).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/model/problem.hpp"

namespace normcheck::model {

// How elements form statistic groups (one saved mean / rstd each).
enum class Grouping {
  channel,        // bn: one group per channel, over the batch and space
  instance,       // in: one group per (sample, channel)
  channel_group,  // gn: one group per (sample, group of channels)
  row,            // ln/rms: one group per row of the trailing dims
  none,           // cbn: no statistics of its own (eval BatchNorm folded)
};

struct OpTraits {
  Op op;
  std::string_view short_name;  // descriptor: "ln"
  std::string_view long_name;   // reports and tolerance files: "layer_norm"
  Grouping grouping;
  bool row_op;        // normalizes trailing dims (ln/rms); else channels (N, C, spatial)
  bool has_mean;      // subtracts a mean (all but rms)
  bool has_backward;  // all but cbn
  bool can_track_running_stats;  // track=1 allowed: bn (its default), in
};

std::span<const OpTraits> op_table();
const OpTraits& traits(Op op);

// The op named `name`, by its short or its long name.
std::optional<Op> parse_op(std::string_view name);
// "bn (batch_norm), ln (layer_norm), ...": for messages listing the valid ops.
std::string op_names_list();

// Shapes the ABI uses (see the ABI header and fixtures/README.md).
std::vector<std::int64_t> param_shape(const Problem& p);  // gamma, beta (cbn: one per out channel)
std::vector<std::int64_t> stat_shape(const Problem& p);   // saved stats, kappa
std::vector<std::int64_t> running_stat_shape(const Problem& p);
std::vector<std::int64_t> conv_output_shape(const Problem& p);  // cbn: N, OC, OH, OW

}  // namespace normcheck::model
