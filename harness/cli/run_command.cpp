// normcheck run: every selected case on every backend, each in an isolated
// worker process, judged by the error model and the tolerance file; writes
// results.json, summary.md, junit.xml and report.html, and prints the
// verdict with the worst failures and a reproducer for each. Exit 0 when
// every check passes (known failures listed in the tolerance file do not
// count), 1 when any fails or a backend given cases executed none of them
// (unless allowed), 2 for bad usage or input (a damaged fixture too), 130
// when interrupted (the report is still written, marked incomplete).
#include <fmt/core.h>
#include <malloc.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>

#include "case_sources.hpp"
#include "command.hpp"
#include "max_case_bytes.hpp"
#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/fixture/progress.hpp"
#include "normcheck/fixture/suite.hpp"
#include "normcheck/model/problem.hpp"
#include "normcheck/report/run_metadata.hpp"
#include "normcheck/report/verdict.hpp"
#include "normcheck/report/writers.hpp"
#include "normcheck/runner/locations.hpp"
#include "normcheck/runner/probe.hpp"
#include "normcheck/runner/run.hpp"
#include "suggest.hpp"

namespace normcheck::cli {

namespace {

// Relative to the current directory, like any output path; resolved once,
// at the start, and printed absolute.
constexpr const char* kDefaultReport = "reports/latest";

struct RunArgs {
  std::string fixtures, suite, tolerances, report = kDefaultReport, filter, shard, save;
  std::vector<std::string> backends, descriptors;
  int jobs = int(std::max(1u, std::thread::hardware_concurrency()));
  double timeout = 60.0;
  bool allow_unsupported = false;
  int show = 10;
  std::string program = "normcheck";  // how to call this binary again (reproducers)
  std::uint64_t max_case_bytes = fixture::kDefaultMaxCaseBytes;
};

using report::shell_quote;

std::string command_line(const RunArgs& a) {
  std::string s = a.program + " run";
  if (!a.suite.empty()) s += " --suite " + shell_quote(a.suite);
  if (!a.fixtures.empty()) s += " --fixtures " + shell_quote(a.fixtures);
  for (const auto& d : a.descriptors) s += " --descriptor " + shell_quote(d);
  for (const auto& b : a.backends) s += " --backend " + shell_quote(b);
  if (!a.tolerances.empty()) s += " --tolerances " + shell_quote(a.tolerances);
  s += " --report " + shell_quote(a.report);
  if (!a.filter.empty()) s += " --filter " + shell_quote(a.filter);
  if (!a.shard.empty()) s += " --shard " + a.shard;
  if (a.allow_unsupported) s += " --allow-unsupported";
  return s + fmt::format(" --jobs {} --timeout {}", a.jobs, a.timeout);
}

// What --backend was given, as a reproducer passes it again: a built-in
// name as is, a plugin's path made absolute.
std::string backend_argument(const std::string& given) {
  if (!backend::names_a_path(given)) return given;
  return std::filesystem::absolute(given).lexically_normal().string();
}

// "--filter '...' matches none of the 42 cases in DIR" with the closest cases.
std::string no_match_message(const std::string& filter, const runner::CaseSource& cases,
                             const std::string& origin) {
  const auto normalized = runner::filter_descriptor(filter);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < cases.size(); ++i) names.push_back(cases.descriptor(i));
  std::string s = fmt::format(
      "--filter '{}'{} matches none of the {} in {}", filter,
      normalized && *normalized != filter ? fmt::format(" (normalized: {})", *normalized) : "",
      report::plural(std::int64_t(cases.size()), "case"), origin);
  const auto near = closest(normalized.value_or(filter), names, 3);
  if (!near.empty()) {
    s += "; closest:";
    for (const auto& n : near) s += "\n  " + n;
  }
  return s;
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

int run(RunArgs a) {
  const int sources =
      int(!a.suite.empty()) + int(!a.fixtures.empty()) + int(!a.descriptors.empty());
  if (sources != 1)
    throw model::InputError(
        "give exactly one of --fixtures DIR, --suite NAME|FILE and --descriptor DESCRIPTOR");
  if (a.backends.empty())
    throw model::InputError(
        "--backend is required: a built-in backend (normcheck list backends) or a plugin .so "
        "path; repeatable");
  if (!a.save.empty() && a.descriptors.empty())
    throw model::InputError("--save DIR goes with --descriptor (other cases are files already)");
  if (a.jobs < 1) throw model::InputError(fmt::format("--jobs {}: must be at least 1", a.jobs));
  if (a.show < 0) throw model::InputError(fmt::format("--show {}: must be >= 0", a.show));
  if (!(a.timeout >= 0.0))
    throw model::InputError("--timeout: must be >= 0 seconds (0: no timeout)");
  const std::filesystem::path report_dir = std::filesystem::absolute(a.report).lexically_normal();
  a.report = report_dir.string();
  runner::Selection selection;
  selection.filter = a.filter;
  if (!a.shard.empty()) selection = runner::parse_shard(a.shard, selection);

  // Descriptors first: a bad one is bad input before anything is loaded.
  std::vector<fixture::Case> in_memory;
  if (!a.descriptors.empty()) {
    in_memory = golden_cases(a.descriptors, a.max_case_bytes);
    if (!a.save.empty()) save_cases(in_memory, a.save);
  }
  std::filesystem::path dir;
  std::optional<fixture::Suite> to_generate;
  if (!a.fixtures.empty()) {
    dir = a.fixtures;
  } else if (a.suite == "quick" || a.suite == "nightly") {
    dir = runner::suite_fixture_dir(a.suite);
  } else if (!a.suite.empty()) {
    // Any other suite (a name in fixtures/suites, or a suite file): its
    // fixtures are generated once into a cache folder, as generate would,
    // once the backends and the report folder are known to be good.
    to_generate =
        fixture::load_suite(fixture::resolve_suite(a.suite, runner::suites_dir()));
  }
  if (!dir.empty() && !std::filesystem::is_directory(dir))
    throw model::InputError(fmt::format("--fixtures {}: no such directory", dir.string()));

  const auto [tolerances, tolerance_source] = runner::run_tolerances(a.tolerances);

  std::vector<backend::LoadedBackend> loaded;
  for (const auto& name : a.backends) {
    runner::probe_backend_load(name);
    loaded.push_back(backend::LoadedBackend::load(name));
  }
  std::vector<const backend::LoadedBackend*> backends;
  for (const auto& b : loaded) backends.push_back(&b);

  // Before the run, not after it: a run of an hour must not end in "cannot write".
  report::check_report_folder(report_dir, "--report");
  if (to_generate) dir = cached_suite_fixtures(*to_generate, unsigned(a.jobs), a.max_case_bytes);
  // Each task's case and outputs arrive as one large block and are freed
  // when judged. glibc's dynamic mmap threshold would soon serve such
  // blocks from the heap, which then stays at its high-water mark and
  // fragments; a fixed threshold returns every large block to the OS, so
  // the harness stays small over a whole nightly (and forks stay cheap).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  std::unique_ptr<runner::FixtureDirectory> folder;
  std::unique_ptr<runner::MemoryCases> memory;
  if (!dir.empty())
    folder = std::make_unique<runner::FixtureDirectory>(dir, 30.0, a.max_case_bytes);
  else
    memory = std::make_unique<runner::MemoryCases>(std::move(in_memory));
  const runner::CaseSource& cases =
      folder ? static_cast<const runner::CaseSource&>(*folder) : *memory;
  const std::vector<runner::DamagedFile> no_damage;
  const auto& damaged_files = folder ? folder->damaged() : no_damage;
  const std::string origin = folder ? dir.string() : "the given descriptors";
  if (cases.size() == 0 && damaged_files.empty())
    throw model::InputError(fmt::format("{}: no fixture files (*.h5)", dir.string()));
  const auto selected = runner::select_cases(cases, selection);
  if (selected.empty() && damaged_files.empty() &&
      runner::select_cases(cases, runner::Selection{a.filter, 1, 1}).empty())
    throw model::InputError(no_match_message(a.filter, cases, origin));

  report::Results results;
  results.run.normcheck_version = NORMCHECK_VERSION;
  results.run.started = report::utc_now();
  results.run.hostname = report::host_name();
  results.run.machine = report::machine_description();
  results.run.command = command_line(a);
  results.run.fixtures = folder ? dir.string() : "memory (--descriptor, certified reference)";
  results.run.tolerances = tolerance_source;
  results.run.filter = a.filter;
  results.run.shard = a.shard;
  results.run.timeout_seconds = a.timeout;
  results.run.jobs = a.jobs;
  results.run.partial = selection.shards > 1;
  results.run.cases_in_memory = !folder;
  results.run.reproduce = a.program + " run";
  if (folder)
    results.run.reproduce +=
        " --fixtures " + shell_quote(std::filesystem::absolute(dir).lexically_normal().string());
  if (!a.tolerances.empty())
    results.run.reproduce +=
        " --tolerances " + shell_quote(std::filesystem::absolute(a.tolerances).string());
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    const auto& b = loaded[i];
    report::BackendInfo info;
    info.name = b.name();
    info.version = b.table().version != nullptr ? b.table().version : "";
    info.path = b.path().string();
    info.argument = backend_argument(a.backends[i]);
    info.allow_unsupported = a.allow_unsupported || tolerances.allows_unsupported(b.name());
    results.backends.push_back(std::move(info));
  }

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
  for (const auto& d : damaged_files)
    for (const auto* b : backends)
      outcome.records.push_back(runner::damaged_record(
          d.path.filename().string(), b->name(), fmt::format("{}: {}", d.path.string(), d.message)));
  const std::size_t damaged = outcome.damaged_cases + damaged_files.size();

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
  const auto paths = report::write_reports(results, report_dir);
  const bool failed = report::run_failed(results);
  fmt::print(
      "normcheck: {} x {}: {} — {}{}\n", report::plural(std::int64_t(outcome.cases_done), "case"),
      report::plural(std::int64_t(backends.size()), "backend"),
      report::status_line(report::count_statuses(results.records)), failed ? "FAILED" : "PASSED",
      results.run.incomplete ? " (INCOMPLETE: " + results.run.incomplete_reason + ")" : "");
  fmt::print("normcheck: {}\n", report::executed_line(report::backend_tallies(results)));
  for (const auto& t : report::empty_backends(results))
    fmt::print("normcheck: {}: {}\n", report::empty_backend_message(t),
               t.allow_unsupported ? "allowed"
               : results.run.partial
                   ? "WARNING (one shard: normcheck merge fails the run if no shard ran any)"
                   : "nothing ran is not a pass (--allow-unsupported when that is expected)");
  const std::size_t failures = report::failure_count(results);
  if (failures > 0 && a.show > 0) {
    const auto top = report::top_failures(results, std::size_t(a.show));
    fmt::print(
        "\n{} {} the run, worst first{}:\n", report::plural(std::int64_t(failures), "check"),
        failures == 1 ? "fails" : "fail",
        failures > top.size() ? fmt::format(" (top {}; --show N for more)", top.size()) : "");
    for (std::size_t i = 0; i < top.size(); ++i)
      fmt::print("{}\n", report::failure_text(results, *top[i], i + 1));
    fmt::print("\n");
  }
  fmt::print("normcheck: report: {}\n", paths.html.string());
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
                  "Named suite (quick: committed; nightly: generated cache; others: "
                  "normcheck list suites) or a suite file, generated into a cache when needed");
  cmd->add_option("--descriptor", args->descriptors,
                  "A problem descriptor, its golden computed in memory by the certified "
                  "reference; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--save", args->save,
                  "With --descriptor: also write the fixtures into this folder");
  // Not CLI11-required: an unknown option (--backends) must be named as
  // such, not answered with "--backend is required".
  cmd->add_option("--backend", args->backends,
                  "Built-in backend name (normcheck list backends) or path to a plugin .so; "
                  "repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--tolerances", args->tolerances,
                  "Tolerance file (default: reports/tolerances/default.toml of the installation)");
  cmd->add_option("--report", args->report,
                  "Report folder (default: reports/latest under the current directory)");
  cmd->add_option("--filter", args->filter,
                  "Cases to run: a descriptor in any form ('ln:f32:4x64:eps=0.01'), a glob over "
                  "the normalized descriptor ('ln:*dist=offset*'), or 're:' + an ECMAScript regex");
  cmd->add_option("--shard", args->shard,
                  "K/N: run the K-th of N deterministic shards of the cases");
  cmd->add_option("--jobs", args->jobs, "Worker processes at once (default: number of cores)");
  cmd->add_option("--timeout", args->timeout,
                  "Seconds per case and backend before the worker is killed (0: none)");
  cmd->add_option("--show", args->show,
                  "Failures printed after the verdict, worst first (default 10; 0: none)");
  cmd->add_flag("--allow-unsupported", args->allow_unsupported,
                "A backend that declines every case does not fail the run (default: nothing "
                "ran is not a pass)");
  const MaxCaseBytes max_case_bytes(cmd);
  cmd->callback([args, max_case_bytes, &exit_code, &app] {
    RunArgs a = *args;
    a.program = program_path(app);
    a.max_case_bytes = max_case_bytes.resolve();
    exit_code = run(std::move(a));
  });
}

}  // namespace normcheck::cli
