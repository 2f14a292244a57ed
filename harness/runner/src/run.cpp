#include "normcheck/runner/run.hpp"

#include <map>
#include <memory>
#include <optional>

#include "normcheck/runner/executor.hpp"
#include "normcheck/runner/interrupt.hpp"
#include "normcheck/runner/judge.hpp"
#include "normcheck/runner/worker_pool.hpp"

namespace normcheck::runner {

namespace {

struct LoadedCase {
  fixture::Case data;
  std::size_t pending = 0;  // tasks not yet judged
};

}  // namespace

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
  std::vector<bool> case_done(selection.size(), false);
  std::map<std::size_t, LoadedCase> loaded;  // by position in `selection`
  Progress progress;
  progress.total = total;

  WorkerPool pool(options.jobs, options.timeout_seconds);
  std::size_t next = 0;
  while ((next < total || !pool.empty()) && !interrupted()) {
    while (next < total && !pool.full() && !interrupted()) {
      const std::size_t pos = next / per_case, b = next % per_case;
      auto it = loaded.find(pos);
      if (it == loaded.end())
        it = loaded.emplace(pos, LoadedCase{cases.load(selection[pos]), per_case}).first;
      const fixture::Case& c = it->second.data;
      const nc_backend_v1& table = backends[b]->table();
      pool.start(next, [&c, &table](int fd) {
        ReportWriter out(fd);
        execute_case(table, c, out);
        out.finish();
      });
      ++next;
    }
    for (auto& f : pool.wait(interrupted)) {
      const std::size_t pos = f.task / per_case, b = f.task % per_case;
      LoadedCase& lc = loaded.at(pos);
      results[pos][b] = judge_case(lc.data, backends[b]->name(), f.report, f.outcome, tolerances);
      progress.done += 1;
      progress.descriptor = lc.data.descriptor();
      progress.backend = backends[b]->name();
      for (const auto& r : results[pos][b]) {
        ++progress.counts.by_status[int(r.status)];
        ++progress.counts.total;
        if (!r.gating && r.status != compare::Status::pass &&
            r.status != compare::Status::unsupported)
          ++progress.counts.non_gating_failures;
      }
      if (--lc.pending == 0) {
        case_done[pos] = true;
        loaded.erase(pos);
      }
      if (options.on_progress) options.on_progress(progress);
    }
  }
  if (interrupted()) {
    pool.kill_all();
    outcome.interrupted_by = InterruptGuard::received();
  }
  for (std::size_t pos = 0; pos < selection.size(); ++pos) {
    if (case_done[pos]) ++outcome.cases_done;
    for (auto& per_backend : results[pos])
      for (auto& r : per_backend) outcome.records.push_back(std::move(r));
  }
  return outcome;
}

}  // namespace normcheck::runner
