// Turns what a worker reported for one (case, backend) into result records:
// one per check (reports/README.md lists the checks and when they apply),
// each with its status, metrics against the error model, tolerance, worst
// element and, for outcomes that do not fail the run, the reason why.
#pragma once

#include <string>
#include <vector>

#include "normcheck/compare/tolerances.hpp"
#include "normcheck/fixture/case.hpp"
#include "normcheck/report/results.hpp"
#include "normcheck/runner/child_report.hpp"

namespace normcheck::runner {

// How the worker process ended.
struct ProcessOutcome {
  enum class Kind { exited, signaled, timed_out, interrupted };
  Kind kind = Kind::exited;
  int code = 0;          // exit code, or the signal's number
  double seconds = 0.0;  // wall time of the worker
  double timeout_seconds = 0.0;
  std::string log_tail;  // the end of what the worker printed (stdout and stderr)

  bool clean() const { return kind == Kind::exited && code == 0; }
  std::string describe() const;  // "SIGSEGV (Segmentation fault)", "killed after 10 s", ...
};

std::vector<report::Record> judge_case(const fixture::Case& c, const std::string& backend,
                                       const ChildReport& worker, const ProcessOutcome& process,
                                       const compare::Tolerances& tolerances);

}  // namespace normcheck::runner
