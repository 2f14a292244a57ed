// Nightly regression: what changed between a baseline run and a new one.
#pragma once

#include <vector>

#include "normcheck/report/results.hpp"

namespace normcheck::report {

struct Change {
  enum class Kind { status_changed, error_grew, appeared, disappeared };
  Kind kind;
  const Record* base = nullptr;  // null for appeared
  const Record* now = nullptr;   // null for disappeared
  bool regression = false;
};

struct RegressionOptions {
  double growth = 2.0;      // an error that grows by more than this factor is reported
  double min_ratio = 1e-3;  // ... when it ends at or above this bound ratio (below is noise)
};

// Records are matched by (case, backend, check). A regression is: a status
// that got worse (pass or unsupported -> anything failing, fail -> crash...,
// pass -> unsupported), an error that grew by more than `growth` while
// measured in both runs, or a new record that fails the run. Changes for
// the better and disappeared records are listed but are not regressions.
std::vector<Change> compare_runs(const Results& base, const Results& now,
                                 const RegressionOptions& options);

}  // namespace normcheck::report
