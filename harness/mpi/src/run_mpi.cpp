#include "normcheck/mpi/run_mpi.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <optional>

#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/compare/tolerances.hpp"
#include "normcheck/model/problem.hpp"
#include "normcheck/mpi/collectives.hpp"
#include "normcheck/mpi/rank_run.hpp"
#include "normcheck/mpi/rank_worker.hpp"
#include "normcheck/mpi/session.hpp"
#include "normcheck/mpi/shards.hpp"
#include "normcheck/mpi/worker_protocol.hpp"
#include "normcheck/report/run_metadata.hpp"
#include "normcheck/report/writers.hpp"
#include "normcheck/runner/case_source.hpp"
#include "normcheck/runner/judge.hpp"
#include "normcheck/runner/locations.hpp"
#include "normcheck/runner/scenarios.hpp"

namespace normcheck::mpi {

namespace {

// Runs `step` on every rank, then all ranks agree on how it went: 0, or
// the worst exit code any rank had (2: bad input, out of memory, or a bug of
// the harness, said to be one; only 0/1/2 and 130 are documented).
// Collective; the message is printed once (see run_mpi.hpp).
int agreed(const MpiSession& s, const std::function<void()>& step) {
  int code = 0;
  std::string message;
  try {
    step();
  } catch (const model::InputError& e) {
    code = 2;
    message = std::string("error: ") + e.what();
  } catch (const std::bad_alloc&) {
    code = 2;
    message = "error: out of memory (std::bad_alloc)";
  } catch (const std::exception& e) {
    code = 2;
    message = std::string("internal error (a bug of normcheck, please report): ") + e.what();
  }
  const int worst = max_over_ranks(s.comm(), code);
  const int root = from_root(s.comm(), code);
  if (code != 0 && (s.rank() == 0 || root == 0))
    fmt::print(stderr, "normcheck run-mpi: {}{}\n",
               s.rank() == 0 ? "" : fmt::format("rank {}: ", s.rank()), message);
  return worst;
}

std::filesystem::path fixture_dir(const RunMpiOptions& o) {
  if (o.suite.empty() == o.fixtures.empty())
    throw model::InputError("give exactly one of --fixtures DIR and --suite NAME");
  if (!o.fixtures.empty()) {
    if (!std::filesystem::is_directory(o.fixtures))
      throw model::InputError(fmt::format("--fixtures {}: no such directory", o.fixtures));
    return o.fixtures;
  }
  return runner::suite_fixture_dir(o.suite);
}

// Everything a run needs before its first case, the same on every rank.
struct Setup {
  std::filesystem::path dir;
  std::unique_ptr<runner::FixtureDirectory> cases;
  SyncSelection selection;
  std::vector<backend::LoadedBackend> backends;
  compare::Tolerances tolerances = compare::Tolerances::builtin();
  std::string tolerance_source = "built-in (every check at bound ratio 1)";
};

Setup load_setup(const RunMpiOptions& o, int ranks) {
  if (!(o.timeout_seconds >= 0.0))
    throw model::InputError("--timeout: must be >= 0 seconds (0: none)");
  if (o.backends.empty()) throw model::InputError("give at least one --backend");
  Setup s;
  s.dir = fixture_dir(o);
  auto [tolerances, source] = runner::run_tolerances(o.tolerances);
  s.tolerances = std::move(tolerances);
  s.tolerance_source = std::move(source);
  for (const auto& name : o.backends) s.backends.push_back(backend::LoadedBackend::load(name));
  s.cases = std::make_unique<runner::FixtureDirectory>(s.dir, 30.0, o.max_case_bytes);
  const auto candidates = runner::select_cases(*s.cases, runner::Selection{o.filter, 1, 1});
  s.selection = select_sync_cases(*s.cases, candidates, ranks);
  if (s.selection.cases.empty()) {
    const std::string where =
        s.dir.string() + (o.filter.empty() ? "" : " matching --filter '" + o.filter + "'");
    if (s.selection.rank_counts.empty())
      throw model::InputError(fmt::format("no SyncBN case (shards=...) in {}", where));
    throw model::InputError(
        fmt::format("no SyncBN case in {} has {} shard{}; its cases have {} shards: run with "
                    "mpirun -np N for N among those",
                    where, ranks, ranks == 1 ? "" : "s", fmt::join(s.selection.rank_counts, ", ")));
  }
  return s;
}

report::Record harness_error_record(const fixture::Case& c, const std::string& backend,
                                    const std::string& what) {
  report::Record r;
  r.case_id = c.descriptor();
  r.backend = backend;
  r.op = std::string(model::op_name(c.problem.op));
  r.check = "harness";
  r.dtype = std::string(numeric::dtype_name(c.problem.data));
  r.status = compare::Status::error;
  r.message = "the MPI driver could not judge this case: " + what;
  r.max_abs_err = r.max_rel_err = r.max_ulp_err = r.bound_ratio = r.tolerance =
      std::numeric_limits<double>::quiet_NaN();
  return r;
}

// Rank 0: every rank's worker report merged into one and judged like the
// in-process SyncBN's (runner::judge_case).
std::vector<report::Record> judge_gathered(const fixture::Case& c, const std::string& backend,
                                           const std::vector<std::string>& gathered,
                                           const compare::Tolerances& tolerances) {
  try {
    std::vector<RankRun> runs;
    for (std::size_t r = 0; r < gathered.size(); ++r) {
      try {
        runs.push_back(decode_rank_run(gathered[r]));
      } catch (const std::exception& e) {
        RankRun lost;
        lost.process.code = 3;
        lost.process.log_tail = fmt::format("its result did not reach rank 0: {}", e.what());
        runs.push_back(lost);
      }
    }
    const MergedRun merged = merge_ranks(runs);
    return runner::judge_case(c, backend, merged.report, merged.process, tolerances);
  } catch (const std::exception& e) {
    return {harness_error_record(c, backend, e.what())};
  }
}

std::string case_line(const std::vector<report::Record>& records) {
  std::vector<std::string> failures;
  bool unsupported = false;
  for (const auto& r : records) {
    unsupported = unsupported || r.status == compare::Status::unsupported;
    if (r.fails_run() && failures.size() < 3) {
      std::string m = r.message.substr(0, r.message.find('\n'));
      if (m.size() > 160) m = m.substr(0, 157) + "...";
      failures.push_back(fmt::format("{} {}: {}", r.check, compare::status_name(r.status), m));
    }
  }
  if (!failures.empty()) return fmt::format("FAIL  ({})", fmt::join(failures, "; "));
  return unsupported ? "unsupported" : "pass";
}

class Driver {
 public:
  Driver(const MpiSession& session, const RunMpiOptions& options) : s_(session), o_(options) {}
  int run();

 private:
  // One case on one backend on this rank; rank 0 also judges it.
  int run_case(const backend::LoadedBackend& b, std::size_t index,
               std::vector<report::Record>& records);

  const MpiSession& s_;
  const RunMpiOptions& o_;
  Setup setup_;
};

int Driver::run_case(const backend::LoadedBackend& b, std::size_t index,
                     std::vector<report::Record>& records) {
  fixture::Case c;
  if (const int code = agreed(s_, [&] { c = setup_.cases->load(index); })) return code;
  MpiCollectives collectives(s_.comm());
  std::optional<RankWorker> worker;
  if (const int code =
          agreed(s_, [&] { worker.emplace(b.table(), c, collectives, o_.timeout_seconds); }))
    return code;
  // The calls of runner/executor.cpp's in-process SyncBN, every rank at
  // once: a call is made only when every rank's previous one succeeded.
  const bool backward = runner::scenarios_for(c).backward;
  if (all_ranks(s_.comm(), worker->call(wire::supports))) {
    for (const std::string prefix : {"", runner::prefix::rerun}) {
      if (all_ranks(s_.comm(), worker->call(wire::forward, prefix)) && backward)
        worker->call(wire::backward, prefix);
    }
  }
  const RankRun run = worker->finish();
  worker.reset();
  const auto gathered = gather_on_root(s_.comm(), encode_rank_run(run));
  if (s_.rank() == 0) {
    auto judged = judge_gathered(c, b.name(), gathered, setup_.tolerances);
    fmt::print("  {} {} on {}: {}\n", b.name(), c.descriptor(),
               s_.size() == 1 ? "1 rank" : fmt::format("{} ranks", s_.size()), case_line(judged));
    std::fflush(stdout);
    records.insert(records.end(), judged.begin(), judged.end());
  }
  return 0;
}

int Driver::run() {
  if (const int code = agreed(s_, [&] { setup_ = load_setup(o_, s_.size()); })) return code;
  const auto& cases = setup_.selection.cases;
  report::Results results;
  results.run.normcheck_version = NORMCHECK_VERSION;
  results.run.started = report::utc_now();
  // Fail early on a report folder that cannot be made, not after the run.
  const int made = agreed(s_, [&] {
    if (s_.rank() == 0) report::check_report_folder(o_.report, "--report");
  });
  if (made != 0) return made;
  if (s_.rank() == 0) {
    fmt::print("run-mpi: {} SyncBN case{} from {} on {} rank{}, backend{} {}\n{}", cases.size(),
               cases.size() == 1 ? "" : "s", setup_.dir.string(), s_.size(),
               s_.size() == 1 ? "" : "s", setup_.backends.size() == 1 ? "" : "s",
               fmt::join(o_.backends, ", "), describe_skipped(setup_.selection, s_.size()));
    std::fflush(stdout);
  }

  std::int64_t done = 0;
  for (const auto& b : setup_.backends) {
    for (const std::size_t index : cases) {
      if (const int code = run_case(b, index, results.records)) return code;
      ++done;
    }
  }

  results.run.finished = report::utc_now();
  results.run.hostname = report::host_name();
  results.run.machine = report::machine_description();
  results.run.command = fmt::format("mpirun -np {} {}", s_.size(), o_.command);
  results.run.fixtures = setup_.dir.string();
  results.run.tolerances = setup_.tolerance_source;
  results.run.filter = o_.filter;
  results.run.timeout_seconds = o_.timeout_seconds;
  results.run.jobs = s_.size();
  results.run.cases_planned = std::int64_t(cases.size() * setup_.backends.size());
  results.run.cases_done = done;
  for (const auto& b : setup_.backends)
    results.backends.push_back(
        {b.name(), b.table().version != nullptr ? b.table().version : "", b.path().string()});

  int verdict = 0;
  const int written = agreed(s_, [&] {
    if (s_.rank() != 0) return;
    const auto paths = report::write_reports(results, o_.report);
    verdict = report::run_failed(results) ? 1 : 0;
    fmt::print("run-mpi: {} case{} x {} backend{} on {} rank{}: {} — {}\nreport: {}\n",
               cases.size(), cases.size() == 1 ? "" : "s", setup_.backends.size(),
               setup_.backends.size() == 1 ? "" : "s", s_.size(), s_.size() == 1 ? "" : "s",
               report::status_line(report::count_statuses(results.records)),
               verdict == 0 ? "PASSED" : "FAILED", std::filesystem::absolute(paths.json).string());
  });
  if (written != 0) return written;
  return from_root(s_.comm(), verdict);
}

}  // namespace

int run_mpi(const RunMpiOptions& options) {
  const MpiSession session;
  return Driver(session, options).run();
}

}  // namespace normcheck::mpi
