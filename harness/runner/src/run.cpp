#include "normcheck/runner/run.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>

#include "normcheck/runner/executor.hpp"
#include "normcheck/runner/interrupt.hpp"
#include "normcheck/runner/judge.hpp"
#include "normcheck/runner/worker_pool.hpp"

namespace normcheck::runner {

namespace {

// Per-case harness cost in element-equivalents (reading the fixture,
// starting the calls): small cases are dominated by it.
constexpr double kFixedCaseWork = 20000.0;

std::string damaged_message(const ChildReport& report, const ProcessOutcome& process,
                            const std::string& location) {
  const std::string where = location.empty() ? "the case" : location;
  if (!report.fixture_error.empty()) return report.fixture_error;
  if (!report.harness_error.empty())
    return fmt::format("{}: harness error while reading it: {}", where, report.harness_error);
  if (process.kind == ProcessOutcome::Kind::timed_out)
    return fmt::format("{}: reading it did not finish within {} s (HDF5 hung on the file?)", where,
                       process.timeout_seconds);
  return fmt::format("{}: the worker reading it ended with {} (a damaged file can crash HDF5)",
                     where, process.describe());
}

}  // namespace

double case_work(const std::string& descriptor) {
  try {
    return double(model::parse_descriptor(descriptor).element_count()) + kFixedCaseWork;
  } catch (const model::InputError&) {
    return kFixedCaseWork;
  }
}

report::Record damaged_record(const std::string& descriptor, const std::string& backend,
                              const std::string& message) {
  report::Record r;
  r.case_id = descriptor;
  r.backend = backend;
  try {
    const auto p = model::parse_descriptor(descriptor);
    r.op = std::string(model::op_name(p.op));
    r.dtype = std::string(numeric::dtype_name(p.data));
  } catch (const model::InputError&) {
  }
  r.check = "fixture";
  r.status = compare::Status::damaged;
  r.message = message;
  r.max_abs_err = r.max_rel_err = r.max_ulp_err = r.bound_ratio = r.tolerance =
      std::numeric_limits<double>::quiet_NaN();
  return r;
}

RunOutcome run_cases(const CaseSource& cases, const std::vector<std::size_t>& selection,
                     const std::vector<const backend::LoadedBackend*>& backends,
                     const compare::Tolerances& tolerances, const RunOptions& options) {
  RunOutcome outcome;
  outcome.cases_planned = selection.size();
  const std::size_t per_case = backends.size();
  const std::size_t total = selection.size() * per_case;
  std::optional<InterruptGuard> interrupts;
  if (options.catch_interrupts) interrupts.emplace();
  const auto interrupted = [&] {
    return options.catch_interrupts && InterruptGuard::received() != 0;
  };

  std::vector<std::vector<std::vector<report::Record>>> results(
      selection.size(), std::vector<std::vector<report::Record>>(per_case));
  std::vector<std::size_t> pending(selection.size(), per_case);
  std::vector<bool> damaged(selection.size(), false);
  std::vector<double> work(selection.size());
  Progress progress;
  progress.total = total;
  for (std::size_t pos = 0; pos < selection.size(); ++pos) {
    work[pos] = case_work(cases.descriptor(selection[pos]));
    progress.work_total += work[pos] * double(per_case);
  }

  // Runs in a worker: the fixture is read there, never in the harness.
  WorkerPool pool(options.jobs, options.timeout_seconds,
                  [&cases, &selection, &backends, per_case](std::size_t task, ReportWriter& out) {
                    const std::size_t i = selection[task / per_case];
                    const std::string location = cases.location(i);
                    if (!location.empty()) out.reading_fixture(location);
                    std::optional<fixture::Case> c;
                    try {
                      c = cases.load(i);
                    } catch (const model::InputError& e) {
                      out.fixture_error(e.what());
                      return;
                    }
                    out.fixture_case(*c);
                    execute_case(backends[task % per_case]->table(), *c, out);
                    out.finish();
                  });
  std::size_t next = 0;
  while ((next < total || !pool.empty()) && !interrupted()) {
    while (next < total && !pool.full() && !interrupted()) pool.start(next++);
    for (auto& f : pool.wait(interrupted)) {
      const std::size_t pos = f.task / per_case, b = f.task % per_case;
      const std::string& descriptor = cases.descriptor(selection[pos]);
      if (f.report.fixture_case) {
        results[pos][b] = judge_case(*f.report.fixture_case, backends[b]->name(), f.report,
                                     f.outcome, tolerances);
      } else {
        damaged[pos] = true;
        results[pos][b] = {damaged_record(
            descriptor, backends[b]->name(),
            damaged_message(f.report, f.outcome, cases.location(selection[pos])))};
      }
      progress.done += 1;
      progress.task_work = work[pos];
      progress.work_done += work[pos];
      progress.descriptor = descriptor;
      progress.backend = backends[b]->name();
      for (const auto& r : results[pos][b]) {
        ++progress.counts.by_status[int(r.status)];
        ++progress.counts.total;
        if (!r.gating && r.status != compare::Status::pass &&
            r.status != compare::Status::unsupported)
          ++progress.counts.non_gating_failures;
      }
      --pending[pos];
      if (options.on_progress) options.on_progress(progress);
    }
  }
  if (interrupted()) {
    pool.kill_all();
    outcome.interrupted_by = InterruptGuard::received();
  }
  outcome.workers_started = pool.workers_started();
  for (std::size_t pos = 0; pos < selection.size(); ++pos) {
    if (pending[pos] == 0) ++outcome.cases_done;
    if (damaged[pos]) ++outcome.damaged_cases;
    for (auto& per_backend : results[pos])
      for (auto& r : per_backend) outcome.records.push_back(std::move(r));
  }
  return outcome;
}

}  // namespace normcheck::runner
