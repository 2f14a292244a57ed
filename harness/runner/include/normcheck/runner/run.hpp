// A run: every selected case on every backend, each (case, backend) a task
// for a persistent isolated worker (worker_pool.hpp) that reads the case's
// fixture and calls the backend; judged against the error model and the
// tolerance file as each task ends. The harness never reads fixture data
// itself: a damaged fixture costs its case (status damaged), not the run.
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
  double work_done = 0, work_total = 0;  // the same, weighted by the tasks' sizes (for an ETA)
  double task_work = 0;                  // the weight of the task that just finished
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
  std::size_t damaged_cases = 0;    // cases whose fixture could not be read
  std::size_t workers_started = 0;  // worker processes, respawns included
  int interrupted_by = 0;  // the signal, or 0
};

// The work weight of a case (its element count plus a fixed per-case cost),
// for progress estimates.
double case_work(const std::string& descriptor);

// The record of a case whose fixture could not be read.
report::Record damaged_record(const std::string& descriptor, const std::string& backend,
                              const std::string& message);

RunOutcome run_cases(const CaseSource& cases, const std::vector<std::size_t>& selection,
                     const std::vector<const backend::LoadedBackend*>& backends,
                     const compare::Tolerances& tolerances, const RunOptions& options);

}  // namespace normcheck::runner
