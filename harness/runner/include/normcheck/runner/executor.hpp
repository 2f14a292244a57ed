// The worker's side of running a case: every backend call the case needs
// (scenarios.hpp), in order, each on guarded buffers, each announced to the
// report stream before it is made and its outputs written after it.
//
// Runs inside the worker process: a backend that crashes, aborts or hangs
// takes down only the worker (see runner.hpp for the process design).
#pragma once

#include "normcheck/backend.h"
#include "normcheck/fixture/case.hpp"
#include "normcheck/runner/child_report.hpp"

namespace normcheck::runner {

// Calls `backend` on case `c`, writing what happens to `out`. Does not call
// finish(); exceptions of the harness's own code propagate.
void execute_case(const nc_backend_v1& backend, const fixture::Case& c, ReportWriter& out);

}  // namespace normcheck::runner
