// A run: every selected case on every backend, each (case, backend) in its
// own worker process (worker_pool.hpp), judged against the error model and
// the tolerance file as its worker ends.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/compare/tolerances.hpp"
#include "normcheck/report/results.hpp"
#include "normcheck/runner/case_source.hpp"

namespace normcheck::runner {

struct Progress {
  std::size_t done = 0, total = 0;  // (case, backend) tasks
  std::string descriptor, backend;  // the task that just finished
  report::StatusCounts counts;      // of all records so far
};

struct RunOptions {
  int jobs = 1;                   // workers at once
  double timeout_seconds = 60.0;  // per (case, backend); 0: none
  std::function<void(const Progress&)> on_progress;
  bool catch_interrupts = true;  // SIGINT/SIGTERM stop the run instead of killing it
};

struct RunOutcome {
  std::vector<report::Record> records;  // in case order, then backend order, then check order
  std::size_t cases_planned = 0, cases_done = 0;
  int interrupted_by = 0;  // the signal, or 0
};

RunOutcome run_cases(const CaseSource& cases, const std::vector<std::size_t>& selection,
                     const std::vector<const backend::LoadedBackend*>& backends,
                     const compare::Tolerances& tolerances, const RunOptions& options);

}  // namespace normcheck::runner
