// normcheck list backends|suites|ops|checks|families: what there is to run,
// for a first-time user: the built-in backends (version, and which of the
// quick suite's cases each takes), the suites with their case counts, and
// the ops, checks and input families of the descriptor grammar.
#include <fmt/core.h>

#include <array>
#include <map>

#include "case_sources.hpp"
#include "command.hpp"
#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/backend/problem_abi.hpp"
#include "normcheck/fixture/suite.hpp"
#include "normcheck/model/problem.hpp"
#include "normcheck/runner/locations.hpp"
#include "normcheck/runner/probe.hpp"

namespace normcheck::cli {

namespace {

struct Topic {
  std::string_view name;
  void (*print)();
};

void list_backends() {
  const auto names = backend::builtin_backend_names();
  fmt::print("built-in backends in {} (any other: --backend PATH/TO/PLUGIN.so):\n",
             backend::builtin_backend_dir().string());
  // What each takes, measured by asking it (supports()) about every case of
  // the quick suite: a backend that declines everything says why.
  const auto quick =
      fixture::load_suite(fixture::resolve_suite("quick", runner::suites_dir()));
  for (const auto& name : names) {
    try {
      runner::probe_backend_load(name);
      const auto b = backend::LoadedBackend::load(name);
      std::map<std::string, std::array<int, 2>> by_op;  // taken, of
      std::map<std::string, int> reasons;
      for (const auto& p : quick.problems) {
        const nc_problem abi = backend::to_abi(p);
        std::array<char, 512> reason{};
        const bool taken = b.table().supports(&abi, reason.data(), reason.size()) == NC_OK;
        auto& [yes, of] = by_op[std::string(model::op_short_name(p.op))];
        yes += taken ? 1 : 0;
        ++of;
        if (!taken) ++reasons[reason.data()];
      }
      std::string ops;
      int taken_total = 0;
      for (const auto& [op, n] : by_op) {
        ops += fmt::format("{}{} {}/{}", ops.empty() ? "" : ", ", op, n[0], n[1]);
        taken_total += n[0];
      }
      fmt::print("  {:<8} {}: takes {} of {} quick cases ({})\n", name,
                 b.table().version != nullptr ? b.table().version : "?", taken_total,
                 quick.problems.size(), ops);
      if (taken_total == 0 && !reasons.empty()) {
        const auto most =
            std::max_element(reasons.begin(), reasons.end(),
                             [](const auto& x, const auto& y) { return x.second < y.second; });
        fmt::print("           declines every case here: \"{}\"\n", most->first);
      }
    } catch (const model::InputError& e) {
      fmt::print("  {:<8} cannot be loaded here: {}\n", name, e.what());
    }
  }
}

void list_suites() {
  const auto dir = runner::suites_dir();
  fmt::print("suites in {} (normcheck run --suite NAME; or --suite FILE):\n", dir.string());
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const auto suite = fixture::load_suite(f);
    std::string where;
    if (suite.name == "quick" || suite.name == "nightly") {  // as run --suite finds them
      try {
        where = "fixtures in " + runner::suite_fixture_dir(suite.name).string();
      } catch (const model::InputError&) {
        where = fmt::format("not generated yet: normcheck generate --suite {} --out {}", suite.name,
                            (runner::project_root() / ".cache" / "fixtures" / suite.name).string());
      }
    } else {
      const auto cache = suite_cache_dir(suite);
      where = std::filesystem::is_directory(cache) ? "fixtures cached in " + cache.string()
                                                   : "fixtures generated into a cache on first run";
    }
    fmt::print("  {:<8} {:>5} cases  {}\n", suite.name, suite.problems.size(), where);
  }
}

void list_ops() {
  fmt::print("ops (the first field of a descriptor; harness/README.md has the grammar):\n");
  for (int i = 0; i <= int(model::Op::conv_bn); ++i) {
    const auto op = model::Op(i);
    fmt::print("  {:<4} {}\n", model::op_short_name(op), model::op_name(op));
  }
}

// The checks of reports/README.md ("Checks"), one line each.
void list_checks() {
  static constexpr std::array<std::array<std::string_view, 2>, 12> kChecks{{
      {"y, residual_out, saved_mean, saved_rstd", "the main forward's outputs, against the golden"},
      {"dx, dresidual, dgamma, dbeta", "the backward of the main forward"},
      {"running_mean, running_var", "running statistics after each training step (worst step)"},
      {"eval_y", "eval forward with the backend's own final running statistics"},
      {"eval_single", "the last sample of an eval batch run alone"},
      {"train_eval_identity", "eval mode equals training mode where it must, bit for bit"},
      {"folded_weight, folded_bias", "Conv-BN folding"},
      {"conv_bn_y", "the folded convolution's output"},
      {"nan_placement", "property: non-finite exactly where the golden is"},
      {"determinism", "property: a second run gives the same bits"},
      {"batch_invariance", "property: half the batch alone gives the same bits"},
      {"fixture", "the case's fixture file could be read (status damaged otherwise)"},
  }};
  fmt::print("checks (reports/README.md explains each and its bound):\n");
  for (const auto& [names, what] : kChecks) fmt::print("  {:<42} {}\n", names, what);
}

void list_families() {
  fmt::print("input families (dist=, dydist=; harness/README.md says what each targets):\n");
  for (int i = 0; i <= int(model::Dist::nonfinite); ++i)
    fmt::print("  {}\n", model::dist_name(model::Dist(i)));
  fmt::print("gamma families (gdist=):\n");
  for (int i = 0; i <= int(model::ParamDist::signed_zeros); ++i)
    fmt::print("  {}\n", model::param_dist_name(model::ParamDist(i)));
}

constexpr std::array<Topic, 5> kTopics{{{"backends", list_backends},
                                        {"suites", list_suites},
                                        {"ops", list_ops},
                                        {"checks", list_checks},
                                        {"families", list_families}}};

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  auto topic = std::make_shared<std::string>();
  std::string names;
  for (const auto& t : kTopics) names += (names.empty() ? "" : "|") + std::string(t.name);
  auto* cmd = app.add_subcommand("list", "List what there is: " + names);
  cmd->add_option("what", *topic, names)->required();
  cmd->callback([topic, names, &exit_code] {
    for (const auto& t : kTopics)
      if (t.name == *topic) {
        t.print();
        exit_code = 0;
        return;
      }
    throw model::InputError(fmt::format("list: unknown topic '{}' (one of {})", *topic, names));
  });
}

}  // namespace normcheck::cli
