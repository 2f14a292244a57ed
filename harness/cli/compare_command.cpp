// normcheck compare BASE.json NEW.json: the nightly regression check. Lists
// every record whose status changed, whose error grew by more than --growth
// (even while still within tolerance), and those that appeared or
// disappeared. Exit 1 when anything regressed, 0 otherwise, 2 for bad input.
#include <fmt/core.h>

#include "command.hpp"
#include "normcheck/model/problem.hpp"
#include "normcheck/report/regression.hpp"
#include "normcheck/report/results_json.hpp"

namespace normcheck::cli {

namespace {

struct CompareArgs {
  std::string base, now;
  report::RegressionOptions options;
};

std::string ratio(double v) {
  return std::isnan(v) ? "-" : fmt::format("{:.4g}", v);
}

std::string describe(const report::Record& r) {
  return fmt::format("{} [{}] on {}: {}{} (bound ratio {})", r.case_id, r.check, r.backend,
                     compare::status_name(r.status), r.gating ? "" : " (known)",
                     ratio(r.bound_ratio));
}

int compare_files(const CompareArgs& a) {
  if (!(a.options.growth > 1.0)) throw model::InputError("--growth must be greater than 1");
  const report::Results base = report::read_results(a.base);
  const report::Results now = report::read_results(a.now);
  const auto changes = report::compare_runs(base, now, a.options);
  std::size_t regressions = 0;
  using Kind = report::Change::Kind;
  for (const auto& c : changes) {
    const char* mark = c.regression ? "REGRESSED" : "changed  ";
    switch (c.kind) {
      case Kind::status_changed:
        fmt::print("{} status {} -> {}: {}\n", mark, compare::status_name(c.base->status),
                   compare::status_name(c.now->status), describe(*c.now));
        break;
      case Kind::error_grew:
        fmt::print("{} error grew {:.3g}x (bound ratio {} -> {}): {}\n", mark,
                   c.now->bound_ratio / c.base->bound_ratio, ratio(c.base->bound_ratio),
                   ratio(c.now->bound_ratio), describe(*c.now));
        break;
      case Kind::appeared:
        fmt::print("{} appeared: {}\n", mark, describe(*c.now));
        break;
      case Kind::disappeared:
        fmt::print("{} disappeared: {}\n", mark, describe(*c.base));
        break;
    }
    regressions += c.regression ? 1 : 0;
  }
  if (now.run.incomplete)
    fmt::print("note: {} is an incomplete run ({})\n", a.now, now.run.incomplete_reason);
  fmt::print("normcheck compare: {} records before, {} now; {} changes, {} regressions\n",
             base.records.size(), now.records.size(), changes.size(), regressions);
  return regressions > 0 ? 1 : 0;
}

}  // namespace

void add_compare_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CompareArgs>();
  auto* cmd =
      app.add_subcommand("compare", "Compare two results.json files; exit 1 if anything regressed");
  cmd->add_option("base", args->base, "Baseline results.json")->required();
  cmd->add_option("new", args->now, "New results.json")->required();
  cmd->add_option(
      "--growth", args->options.growth,
      "Report an error that grew by more than this factor, even within tolerance (default 2)");
  cmd->add_option(
      "--min-ratio", args->options.min_ratio,
      "Ignore growth that ends below this bound ratio: noise of exact-ish results (default 1e-3)");
  cmd->callback([args, &exit_code] { exit_code = compare_files(*args); });
}

}  // namespace normcheck::cli
