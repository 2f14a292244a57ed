// The declared table of every tensor a backend writes and every check the
// judge makes (one row each), the single place that says, per check: the
// record and tolerance-file name, the output it reads, the golden it is
// compared with, the dtype role of both, the error-bound function, where the
// group context of its worst element comes from, and whether it gates.
//
// Readers: the executor (output names and buffer dtypes), the judge (which
// check reads what), ErrorModel (bound and dtype by golden name) and the
// tolerance parser (the valid `check` names). Adding a check is one row here
// plus its bound function in ErrorModel (harness/README.md shows it).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/model/problem.hpp"

namespace normcheck::compare {

class ErrorModel;

// Which of a problem's three dtypes a tensor is stored in.
enum class Role { data, param, stats };
numeric::DType dtype_of(Role role, const model::Problem& p);

// The backend call that writes an output.
enum class Call { forward, backward, conv_bn_fold };

// Every tensor a backend writes, by the name the worker emits it under (the
// extra runs add the prefixes of runner/scenarios.hpp).
enum class Output {
  y,
  residual_out,
  saved_mean,
  saved_rstd,
  running_mean,  // updated in place; emitted per training step
  running_var,
  dx,
  dresidual,
  dgamma,
  dbeta,
  folded_weight,
  folded_bias,
};

struct OutputSpec {
  Output id;
  std::string_view name;
  Call call;
  Role role;
  // Whether the call has this output for problem `p` (the buffer is offered).
  bool (*present)(const model::Problem& p);
};
bool present(Output o, const model::Problem& p);

// The checks, in the order the judge makes them.
enum class Check {
  y,
  residual_out,
  saved_mean,
  saved_rstd,
  dx,
  dresidual,
  dgamma,
  dbeta,
  running_mean,
  running_var,
  eval_y,
  eval_single,
  folded_weight,
  folded_bias,
  conv_bn_y,
  train_eval_identity,
  nan_placement,
  determinism,
  batch_invariance,
};

// How a check is made (the judge has one routine per kind).
enum class Kind {
  tensor,       // output(s) against the golden, within tolerance of the bound
  per_step,     // one output per training step k, golden "<golden><k>"
  one_sample,   // the last sample alone against its slice of the golden
  conv_output,  // harness-computed conv(x, folded) against its golden
  bitwise,      // bit-identical outputs of two runs of the backend
  property,     // a property over every measured check (non-finite placement)
};

// SyncBN: how the ranks' outputs of a check make up the whole.
enum class Ranks {
  rows,  // each rank its rows of the batch, concatenated in rank order
  copy,  // each rank the whole tensor (global statistics)
  sum,   // each rank its contribution, summed by the harness (dgamma, dbeta)
};

// Where the worst element's statistic group comes from.
enum class Context {
  none,             // per-parameter tensors: no group
  element,          // element -> group of the main batch
  group,            // one element per group
  eval_after_steps  // element -> group of the eval batch, final running stats
};

// A backend property a check stands for: a failure gates only when the
// tolerance file requires it of the backend; `none` always gates.
enum class Requirement { none, batch_invariance, determinism, nan_placement };

// The bound of golden `values` (step k for per-step goldens, else 0).
using BoundFunction = std::vector<double> (ErrorModel::*)(std::span<const double> values,
                                                          int step) const;

struct CheckSpec {
  Check id;
  std::string_view name;    // record `check` and tolerance-file key
  Kind kind;
  std::optional<Output> output;  // tensor read from the backend (none: several, or computed)
  std::string_view golden;  // golden dataset (per_step: the name before k)
  Role role;                // of the output, the golden and the record's dtype
  BoundFunction bound;      // nullptr: no golden of its own to bound
  Ranks ranks;
  Context context;
  Requirement requirement;
};

std::span<const OutputSpec> output_table();
std::span<const CheckSpec> check_table();

const OutputSpec& spec(Output o);
const CheckSpec& spec(Check c);
std::string_view name(Output o);  // spec(o).name
std::string name(Output o, std::string_view prefix);

// The golden of `c` at training step `step` (per_step checks), else its golden.
std::string golden_name(const CheckSpec& c, int step = 0);

// The check whose own golden `golden` is (running_mean_step3 -> running_mean,
// step 3), or nullptr when no check bounds that golden (kappa, conv_bn_y).
struct GoldenOwner {
  const CheckSpec* check = nullptr;
  int step = 0;
};
GoldenOwner owner_of_golden(std::string_view golden);

// Every check name, for messages listing the valid ones.
std::vector<std::string_view> check_names();

}  // namespace normcheck::compare
