// Helpers of the end-to-end tests: certified in-memory cases, test backend
// plugins by kind, and a run of cases on one backend.
#pragma once

#include <string>
#include <vector>

#include "normcheck/compare/tolerances.hpp"
#include "normcheck/fixture/case.hpp"
#include "normcheck/report/results.hpp"

namespace normcheck::testing {

// A certified case from the reference (fixture::generate_case).
fixture::Case generated(const std::string& descriptor);

// Path of a test backend plugin: "broken_segfault", "exact_ln_exact", ...
std::string test_backend(const std::string& kind);

// Runs `cases` on one backend (a test backend kind, or a built-in name) and
// returns every record.
std::vector<report::Record> run_on(
    const std::string& backend, const std::vector<fixture::Case>& cases,
    const compare::Tolerances& tolerances = compare::Tolerances::builtin(),
    double timeout_seconds = 30.0);

// A copy of the record of `check`; fails the test when absent.
report::Record record(const std::vector<report::Record>& records, const std::string& check);

// A built-in backend of this build (build/backends), and whether it was built.
std::string builtin_backend_path(const std::string& name);
bool builtin_backend_available(const std::string& name);

}  // namespace normcheck::testing
