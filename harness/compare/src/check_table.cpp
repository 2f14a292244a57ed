#include "normcheck/compare/check_table.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

#include "normcheck/compare/error_model.hpp"
#include "normcheck/fixture/case.hpp"
#include "normcheck/fixture/schema.hpp"
#include "normcheck/model/op_traits.hpp"

namespace normcheck::compare {

namespace {

namespace names = fixture::names;
using EM = ErrorModel;

bool always(const model::Problem&) { return true; }
bool with_residual(const model::Problem& p) { return p.residual; }
// Saved statistics are offered in every mode (a backward needs them); only
// those a golden holds are checked. rms_norm has no mean.
bool with_mean(const model::Problem& p) { return model::traits(p.op).has_mean; }
bool updating_running_stats(const model::Problem& p) {
  return fixture::updates_running_stats(p);
}
bool with_scale(const model::Problem& p) { return p.scale; }
bool with_shift(const model::Problem& p) { return p.shift; }

constexpr std::array kOutputs{
    OutputSpec{Output::y, "y", Call::forward, Role::data, always},
    OutputSpec{Output::residual_out, "residual_out", Call::forward, Role::data, with_residual},
    OutputSpec{Output::saved_mean, "saved_mean", Call::forward, Role::stats, with_mean},
    OutputSpec{Output::saved_rstd, "saved_rstd", Call::forward, Role::stats, always},
    OutputSpec{Output::running_mean, "running_mean", Call::forward, Role::stats,
               updating_running_stats},
    OutputSpec{Output::running_var, "running_var", Call::forward, Role::stats,
               updating_running_stats},
    OutputSpec{Output::dx, "dx", Call::backward, Role::data, always},
    OutputSpec{Output::dresidual, "dresidual", Call::backward, Role::data, with_residual},
    OutputSpec{Output::dgamma, "dgamma", Call::backward, Role::param, with_scale},
    OutputSpec{Output::dbeta, "dbeta", Call::backward, Role::param, with_shift},
    OutputSpec{Output::folded_weight, "folded_weight", Call::conv_bn_fold, Role::data, always},
    OutputSpec{Output::folded_bias, "folded_bias", Call::conv_bn_fold, Role::data, always},
};

using enum Kind;
using enum Role;
using C = Context;
using enum Ranks;
using R = Requirement;

// clang-format off
const std::array kChecks{
  //        id                           name                    kind          output                  golden                role    golden's bound             ranks  context               gates unless
  CheckSpec{Check::y,                    "y",                    tensor,       Output::y,              "y",                  data,   &EM::y_bound,              rows,  C::element,           R::none},
  CheckSpec{Check::residual_out,         "residual_out",         tensor,       Output::residual_out,   "residual_out",       data,   &EM::residual_out_bound,   rows,  C::element,           R::none},
  CheckSpec{Check::saved_mean,           "saved_mean",           tensor,       Output::saved_mean,     "saved_mean",         stats,  &EM::saved_mean_bound,     copy,  C::group,             R::none},
  CheckSpec{Check::saved_rstd,           "saved_rstd",           tensor,       Output::saved_rstd,     "saved_rstd",         stats,  &EM::saved_rstd_bound,     copy,  C::group,             R::none},
  CheckSpec{Check::dx,                   "dx",                   tensor,       Output::dx,             "dx",                 data,   &EM::dx_bound,             rows,  C::element,           R::none},
  // The gradient of x + residual reaches both: dresidual is held to dx's golden and bound.
  CheckSpec{Check::dresidual,            "dresidual",            tensor,       Output::dresidual,      "dx",                 data,   nullptr,                   rows,  C::element,           R::none},
  CheckSpec{Check::dgamma,               "dgamma",               tensor,       Output::dgamma,         "dgamma",             param,  &EM::dgamma_bound,         sum,   C::none,              R::none},
  CheckSpec{Check::dbeta,                "dbeta",                tensor,       Output::dbeta,          "dbeta",              param,  &EM::dbeta_bound,          sum,   C::none,              R::none},
  CheckSpec{Check::running_mean,         "running_mean",         per_step,     Output::running_mean,   "running_mean_step",  stats,  &EM::running_mean_bound,   copy,  C::none,              R::none},
  CheckSpec{Check::running_var,          "running_var",          per_step,     Output::running_var,    "running_var_step",   stats,  &EM::running_var_bound,    copy,  C::none,              R::none},
  CheckSpec{Check::eval_y,               "eval_y",               tensor,       Output::y,              "eval_y",             data,   &EM::eval_y_bound,         rows,  C::eval_after_steps,  R::none},
  // Against y, or eval_y after a trajectory: their bounds and contexts.
  CheckSpec{Check::eval_single,          "eval_single",          one_sample,   Output::y,              "",                   data,   nullptr,                   rows,  C::none,              R::none},
  CheckSpec{Check::folded_weight,        "folded_weight",        tensor,       Output::folded_weight,  "folded_weight",      data,   &EM::folded_weight_bound,  rows,  C::none,              R::none},
  CheckSpec{Check::folded_bias,          "folded_bias",          tensor,       Output::folded_bias,    "folded_bias",        data,   &EM::folded_bias_bound,    rows,  C::none,              R::none},
  // Bounded by ErrorModel::folded_conv, which propagates the folded bounds.
  CheckSpec{Check::conv_bn_y,            "conv_bn_y",            conv_output,  std::nullopt,           "conv_bn_y",          data,   nullptr,                   rows,  C::none,              R::none},
  CheckSpec{Check::train_eval_identity,  "train_eval_identity",  bitwise,      Output::y,              "",                   data,   nullptr,                   rows,  C::none,              R::none},
  CheckSpec{Check::nan_placement,        "nan_placement",        property,     std::nullopt,           "",                   data,   nullptr,                   rows,  C::none,              R::nan_placement},
  CheckSpec{Check::determinism,          "determinism",          bitwise,      std::nullopt,           "",                   data,   nullptr,                   rows,  C::none,              R::determinism},
  CheckSpec{Check::batch_invariance,     "batch_invariance",     bitwise,      std::nullopt,           "",                   data,   nullptr,                   rows,  C::none,              R::batch_invariance},
};
// clang-format on

// Each table is indexed by its enum: a row out of place is a build error.
constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kOutputs.size(); ++i)
    if (std::size_t(kOutputs[i].id) != i) return false;
  return true;
}
static_assert(in_enum_order(), "kOutputs must list the outputs in enum order");

}  // namespace

numeric::DType dtype_of(Role role, const model::Problem& p) {
  switch (role) {
    case Role::data:
      return p.data;
    case Role::param:
      return p.param;
    case Role::stats:
      return p.stats;
  }
  return p.data;
}

bool present(Output o, const model::Problem& p) { return spec(o).present(p); }

std::span<const OutputSpec> output_table() { return kOutputs; }
std::span<const CheckSpec> check_table() { return kChecks; }

const OutputSpec& spec(Output o) { return kOutputs[std::size_t(o)]; }

const CheckSpec& spec(Check c) {
  const CheckSpec& s = kChecks[std::size_t(c)];
  if (s.id != c) throw std::logic_error("check_table: rows out of enum order");
  return s;
}

std::string_view name(Output o) { return spec(o).name; }

std::string name(Output o, std::string_view prefix) {
  return std::string(prefix) + std::string(spec(o).name);
}

std::string golden_name(const CheckSpec& c, int step) {
  if (c.kind != Kind::per_step) return std::string(c.golden);
  return std::string(c.golden) + std::to_string(step);
}

GoldenOwner owner_of_golden(std::string_view golden) {
  for (const auto& c : kChecks) {
    if (c.bound == nullptr) continue;
    if (c.kind != Kind::per_step) {
      if (c.golden == golden) return {&c, 0};
      continue;
    }
    if (golden.size() <= c.golden.size() || golden.substr(0, c.golden.size()) != c.golden)
      continue;
    const std::string_view digits = golden.substr(c.golden.size());
    int step = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
    if (ec == std::errc() && end == digits.data() + digits.size() && step >= 1) return {&c, step};
  }
  return {};
}

std::vector<std::string_view> check_names() {
  std::vector<std::string_view> v;
  for (const auto& c : kChecks) v.push_back(c.name);
  return v;
}

}  // namespace normcheck::compare
