// Regenerating the tolerance file from a run, in the spirit of glibc's
// `make regen-ulps`: every (backend, op, check, dtype) whose observed error
// exceeds its current limit gets a [[limit]] raised to the observed value
// times a margin (rounded up to two significant digits, so reruns do not
// churn the file). Limits are only ever raised, never lowered, and known
// failures (expected_fail) are left alone: a loosening is always a visible
// diff for a reviewer, and a tightening is a deliberate edit.
#pragma once

#include <string>
#include <vector>

#include "normcheck/compare/tolerances.hpp"
#include "normcheck/report/results.hpp"

namespace normcheck::report {

struct Regenerated {
  compare::Tolerances tolerances;
  std::vector<std::string> raised;  // one line per raised limit
  std::vector<std::string>
      skipped;  // errors no accepted limit can admit (NaN/inf outputs, unwritten, above
                // compare::kMaxLimitBoundRatio or kMaxLimitUlp)
};

Regenerated regenerate_tolerances(const Results& results, const compare::Tolerances& base,
                                  double margin);

// Smallest number with two significant digits that is >= v (v > 0).
double round_up_2_digits(double v);

}  // namespace normcheck::report
