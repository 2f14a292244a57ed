// normcheck merge A.json B.json ... --out DIR: combines the results of
// shards (normcheck run --shard K/N) into one report, all four files.
// Exit code as for run: 1 when the merged run fails, 0 otherwise, 2 for bad
// input (an unreadable file, another schema version).
#include <fmt/core.h>

#include <filesystem>

#include "command.hpp"
#include "normcheck/model/problem.hpp"
#include "normcheck/report/merge.hpp"
#include "normcheck/report/results_json.hpp"
#include "normcheck/report/verdict.hpp"
#include "normcheck/report/writers.hpp"

namespace normcheck::cli {

namespace {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string out;
};

int merge(const MergeArgs& a) {
  report::check_report_folder(a.out, "--out");
  std::vector<report::Results> inputs;
  for (const auto& file : a.inputs) inputs.push_back(report::read_results(file));
  const report::Merged m = report::merge_results(inputs, a.inputs);
  for (const auto& d : m.duplicates)
    fmt::print(stderr, "normcheck merge: warning: {} appears twice; kept the later\n", d);
  const auto paths = report::write_reports(m.results, a.out);
  const bool failed = report::run_failed(m.results);
  fmt::print("normcheck merge: {}, {}: {} — {}{}; report: {}\n",
             report::plural(std::int64_t(a.inputs.size()), "file"),
             report::plural(std::int64_t(m.results.records.size()), "record"),
             report::status_line(report::count_statuses(m.results.records)),
             failed ? "FAILED" : "PASSED", m.results.run.incomplete ? " (INCOMPLETE)" : "",
             std::filesystem::absolute(paths.html).string());
  fmt::print("normcheck merge: {}\n", report::executed_line(report::backend_tallies(m.results)));
  // The shards only warned; over their union, nothing ran fails the run.
  for (const auto& t : report::failing_empty_backends(m.results))
    fmt::print("normcheck merge: {}: nothing ran in any shard, which is not a pass\n",
               report::empty_backend_message(t));
  return failed ? 1 : 0;
}

}  // namespace

void add_merge_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<MergeArgs>();
  auto* cmd = app.add_subcommand(
      "merge", "Merge results.json files of shards into one report (all four files)");
  cmd->add_option("results", args->inputs, "results.json files")->required()->expected(1, -1);
  cmd->add_option("--out", args->out, "Report folder to write")->required();
  cmd->callback([args, &exit_code] { exit_code = merge(*args); });
}

}  // namespace normcheck::cli
