// normcheck run: every selected case on every backend, each in an isolated
// worker process, judged by the error model and the tolerance file; writes
// results.json, summary.md, junit.xml and report.html. Exit 0 when every
// check passes (known failures listed in the tolerance file do not count),
// 1 when any fails, 2 for bad usage or input (a damaged fixture too), 130 when interrupted
// (the report is still written, marked incomplete).
#include <fmt/core.h>
#include <malloc.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "command.hpp"
#include "max_case_bytes.hpp"
#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/fixture/progress.hpp"
#include "normcheck/model/problem.hpp"
#include "normcheck/report/run_metadata.hpp"
#include "normcheck/report/writers.hpp"
#include "normcheck/runner/locations.hpp"
#include "normcheck/runner/probe.hpp"
#include "normcheck/runner/run.hpp"

namespace normcheck::cli {

namespace {

struct RunArgs {
  std::string fixtures, suite, tolerances, report = "reports/latest", filter, shard;
  std::vector<std::string> backends;
  int jobs = int(std::max(1u, std::thread::hardware_concurrency()));
  double timeout = 60.0;
  std::uint64_t max_case_bytes = fixture::kDefaultMaxCaseBytes;
};

std::string command_line(const RunArgs& a) {
  std::string s = "normcheck run";
  if (!a.suite.empty()) s += " --suite " + a.suite;
  if (!a.fixtures.empty()) s += " --fixtures " + a.fixtures;
  for (const auto& b : a.backends) s += " --backend " + b;
  if (!a.tolerances.empty()) s += " --tolerances " + a.tolerances;
  s += " --report " + a.report;
  if (!a.filter.empty()) s += " --filter '" + a.filter + "'";
  if (!a.shard.empty()) s += " --shard " + a.shard;
  return s + fmt::format(" --jobs {} --timeout {}", a.jobs, a.timeout);
}

// Progress on stderr: on a terminal one status line (tasks done/total,
// checks failed so far, elapsed, a work-weighted ETA); without one, a line
// every ~10 s and 5 % (fixture::Progress), so CI logs show life.
class RunProgress {
 public:
  RunProgress(std::size_t total, double total_work)
      : meter_(total, fixture::stderr_is_terminal(), stderr, total_work) {}
  void update(const runner::Progress& p) {
    const auto failed = p.counts.total - p.counts.of(compare::Status::pass) -
                        p.counts.of(compare::Status::unsupported) - p.counts.non_gating_failures;
    meter_.set_summary(fmt::format("{} check{} failed", failed, failed == 1 ? "" : "s"));
    meter_.step(fmt::format("{} {}", p.backend, p.descriptor), false, p.task_work);
  }
  void finish() { meter_.finish(); }

 private:
  fixture::Progress meter_;
};

int run(const RunArgs& a) {
  if (a.suite.empty() == a.fixtures.empty())
    throw model::InputError("give exactly one of --fixtures DIR and --suite NAME");
  if (a.jobs < 1) throw model::InputError(fmt::format("--jobs {}: must be at least 1", a.jobs));
  if (!(a.timeout >= 0.0))
    throw model::InputError("--timeout: must be >= 0 seconds (0: no timeout)");
  runner::Selection selection;
  selection.filter = a.filter;
  if (!a.shard.empty()) selection = runner::parse_shard(a.shard, selection);

  const std::filesystem::path dir =
      a.suite.empty() ? std::filesystem::path(a.fixtures) : runner::suite_fixture_dir(a.suite);
  if (!std::filesystem::is_directory(dir))
    throw model::InputError(fmt::format("--fixtures {}: no such directory", dir.string()));

  std::string tolerance_source = "built-in (every check at bound ratio 1)";
  compare::Tolerances tolerances = compare::Tolerances::builtin();
  if (!a.tolerances.empty()) {
    tolerances = compare::Tolerances::load(a.tolerances);
    tolerance_source = a.tolerances;
  } else if (std::filesystem::exists(runner::default_tolerance_file())) {
    tolerances = compare::Tolerances::load(runner::default_tolerance_file());
    tolerance_source = runner::default_tolerance_file().string();
  }

  std::vector<backend::LoadedBackend> loaded;
  for (const auto& name : a.backends) {
    runner::probe_backend_load(name);
    loaded.push_back(backend::LoadedBackend::load(name));
  }
  std::vector<const backend::LoadedBackend*> backends;
  for (const auto& b : loaded) backends.push_back(&b);

  // Before the run, not after it: a run of an hour must not end in "cannot write".
  report::check_report_folder(a.report, "--report");
  // Each task's case and outputs arrive as one large block and are freed
  // when judged. glibc's dynamic mmap threshold would soon serve such
  // blocks from the heap, which then stays at its high-water mark and
  // fragments; a fixed threshold returns every large block to the OS, so
  // the harness stays small over a whole nightly (and forks stay cheap).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  const runner::FixtureDirectory cases(dir, 30.0, a.max_case_bytes);
  if (cases.size() == 0 && cases.damaged().empty())
    throw model::InputError(fmt::format("{}: no fixture files (*.h5)", dir.string()));
  const auto selected = runner::select_cases(cases, selection);
  if (selected.empty() && cases.damaged().empty() &&
      runner::select_cases(cases, runner::Selection{a.filter, 1, 1}).empty())
    throw model::InputError(fmt::format("--filter '{}' matches none of the {} cases in {}",
                                        a.filter, cases.size(), dir.string()));

  report::Results results;
  results.run.normcheck_version = NORMCHECK_VERSION;
  results.run.started = report::utc_now();
  results.run.hostname = report::host_name();
  results.run.machine = report::machine_description();
  results.run.command = command_line(a);
  results.run.fixtures = dir.string();
  results.run.tolerances = tolerance_source;
  results.run.filter = a.filter;
  results.run.shard = a.shard;
  results.run.timeout_seconds = a.timeout;
  results.run.jobs = a.jobs;
  for (const auto& b : loaded)
    results.backends.push_back(
        {b.name(), b.table().version != nullptr ? b.table().version : "", b.path().string()});

  double total_work = 0;
  for (auto i : selected) total_work += runner::case_work(cases.descriptor(i));
  RunProgress progress(selected.size() * backends.size(), total_work * double(backends.size()));
  runner::RunOptions options;
  options.jobs = a.jobs;
  options.timeout_seconds = a.timeout;
  options.on_progress = [&progress](const runner::Progress& p) { progress.update(p); };
  runner::RunOutcome outcome = runner::run_cases(cases, selected, backends, tolerances, options);
  progress.finish();
  // Files that could not even be listed: their cases are unknown, so the
  // file stands for them, once per backend.
  for (const auto& d : cases.damaged())
    for (const auto* b : backends)
      outcome.records.push_back(runner::damaged_record(
          d.path.filename().string(), b->name(), fmt::format("{}: {}", d.path.string(), d.message)));
  const std::size_t damaged = outcome.damaged_cases + cases.damaged().size();

  results.run.finished = report::utc_now();
  results.run.cases_planned = std::int64_t(outcome.cases_planned);
  results.run.cases_done = std::int64_t(outcome.cases_done);
  if (outcome.interrupted_by != 0) {
    results.run.incomplete = true;
    results.run.incomplete_reason =
        fmt::format("interrupted by {} after {} of {} cases",
                    outcome.interrupted_by == SIGINT ? "SIGINT" : "SIGTERM", outcome.cases_done,
                    outcome.cases_planned);
  }
  results.records = outcome.records;
  const auto paths = report::write_reports(results, a.report);
  const bool failed = report::run_failed(results);
  fmt::print("normcheck: {} cases x {} backends: {} — {}{}; report: {}\n", outcome.cases_done,
             backends.size(), report::status_line(report::count_statuses(results.records)),
             failed ? "FAILED" : "PASSED",
             results.run.incomplete ? " (INCOMPLETE: " + results.run.incomplete_reason + ")" : "",
             std::filesystem::absolute(paths.html).string());
  if (damaged > 0)
    fmt::print(stderr,
               "normcheck: {} fixture{} could not be read (status 'damaged' in the report); "
               "check them with normcheck verify-fixtures\n",
               damaged, damaged == 1 ? "" : "s");
  // 130 for any interrupt (SIGINT or SIGTERM), as shells report Ctrl-C.
  if (outcome.interrupted_by != 0) return 130;
  if (damaged > 0) return 2;
  return failed ? 1 : 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Run backends on golden fixtures and judge them (exit 0 pass, 1 fail, 2 bad input)");
  cmd->add_option("--fixtures", args->fixtures,
                  "Folder of fixture files (*.h5, searched recursively)");
  cmd->add_option("--suite", args->suite,
                  "Named suite: quick (committed) or nightly (generated cache)");
  cmd->add_option("--backend", args->backends,
                  "Built-in backend name (naive, cpu, ...) or path to a plugin .so; repeatable")
      ->required();
  cmd->add_option("--tolerances", args->tolerances,
                  "Tolerance file (default: reports/tolerances/default.toml)");
  cmd->add_option("--report", args->report, "Report folder (default: reports/latest)");
  cmd->add_option("--filter", args->filter,
                  "Cases to run: a glob over the descriptor ('ln:*dist=offset*'), or 're:' + an "
                  "ECMAScript regex");
  cmd->add_option("--shard", args->shard,
                  "K/N: run the K-th of N deterministic shards of the cases");
  cmd->add_option("--jobs", args->jobs, "Worker processes at once (default: number of cores)");
  cmd->add_option("--timeout", args->timeout,
                  "Seconds per case and backend before the worker is killed (0: none)");
  const MaxCaseBytes max_case_bytes(cmd);
  cmd->callback([args, max_case_bytes, &exit_code] {
    args->max_case_bytes = max_case_bytes.resolve();
    exit_code = run(*args);
  });
}

}  // namespace normcheck::cli
