// The results of a run: one Record per (case, backend, check) plus run
// metadata. results.json is this, serialized (schema in reports/README.md);
// every other report is rendered from it, so a merged or reloaded run
// renders exactly like a fresh one.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/compare/status.hpp"

namespace normcheck::report {

using compare::Status;

inline constexpr int kResultsSchemaVersion = 1;

// How a record that is not gating says why (Record::note starts with one):
// the judge writes them, the reports count known failures apart from
// advisory properties by them.
inline constexpr std::string_view kKnownFailureNote = "expected_fail: ";
inline constexpr std::string_view kAdvisoryNote = "advisory: ";

// The element of the largest bound ratio and the statistics of its group.
struct WorstElement {
  std::string tensor;  // the output it lies in (e.g. running_var_step2, rank1/saved_mean)
  std::vector<std::int64_t> index;  // multi-dimensional, in the tensor's shape
  double golden = 0.0, actual = 0.0, bound = 0.0;
  std::optional<std::int64_t> group;  // statistic group, when the element has one
  std::optional<double> group_mean, group_rstd, kappa;
};

struct Record {
  std::string case_id;  // normalized descriptor
  std::string backend;
  std::string op;     // long op name (layer_norm, ...)
  std::string check;  // y, dx, running_var, determinism, ... (reports/README.md lists them)
  std::string dtype;  // dtype of the checked tensor
  Status status = Status::pass;
  // False when the tolerance file says this outcome does not fail the run:
  // a listed known failure (expected_fail) or a property the backend is not
  // required to have. The status stays what was measured.
  bool gating = true;
  std::string note;     // why a record is not gating
  std::string message;  // what went wrong, for any status but pass
  std::int64_t elements = 0;
  // NaN when not measured (crash, unsupported, properties).
  double max_abs_err = 0.0, max_rel_err = 0.0, max_ulp_err = 0.0, bound_ratio = 0.0;
  double tolerance = 0.0;               // max bound ratio allowed
  std::optional<double> ulp_tolerance;  // max ULPs allowed, when the tolerance file sets one
  double kappa = 0.0;                   // largest condition number of the case's groups
  std::optional<WorstElement> worst;
  double seconds = 0.0;  // wall time of the backend's calls for the whole case

  bool measured() const;  // has error metrics
  // Counts against the run: gating and neither pass nor unsupported.
  bool fails_run() const {
    return gating && status != Status::pass && status != Status::unsupported;
  }
  // Not gating because the tolerance file lists it as a known failure.
  bool known_failure() const {
    return !gating && status != Status::pass && status != Status::unsupported &&
           std::string_view(note).starts_with(kKnownFailureNote);
  }
};

struct BackendInfo {
  std::string name, version, path;
  // What was given to --backend (a built-in name, or a plugin's absolute
  // path): what a reproducer passes again. Empty in older results files.
  std::string argument{};
  // A run in which this backend executes no check is expected (--allow-unsupported,
  // or allow_unsupported in the tolerance file): it does not fail the run.
  bool allow_unsupported = false;
};

struct RunInfo {
  std::string normcheck_version;
  std::string started, finished;  // ISO 8601 UTC
  std::string hostname, machine;  // machine: OS, CPU model, cores
  std::string command;            // the command line
  std::string fixtures;           // folder (or suite) the cases came from
  std::string tolerances;         // tolerance file, or "built-in"
  std::string filter, shard;      // as given; empty when absent
  double timeout_seconds = 0.0;
  int jobs = 1;
  bool incomplete = false;
  std::string incomplete_reason;  // e.g. "interrupted by SIGINT after 12 of 40 cases"
  std::int64_t cases_planned = 0, cases_done = 0;
  // One shard of a larger run (--shard K/N, N > 1): a backend that ran
  // nothing here only warns; normcheck merge judges the union of the shards.
  bool partial = false;
  // The command that reruns one case, up to --backend and the case:
  // "normcheck run --fixtures DIR" (reproducer() adds --filter) or, for cases
  // computed in memory, "normcheck run" (reproducer() adds --descriptor).
  std::string reproduce;
  bool cases_in_memory = false;
};

struct Results {
  int schema_version = kResultsSchemaVersion;
  RunInfo run;
  std::vector<BackendInfo> backends;
  std::vector<Record> records;
};

// Counts of records per status, with how many of the failures are not gating.
struct StatusCounts {
  std::int64_t by_status[std::size(compare::kAllStatuses)] = {};
  std::int64_t non_gating_failures = 0;  // fail/crash/... that do not fail the run
  std::int64_t known_failures = 0;       // of those, listed as known in the tolerance file
  std::int64_t total = 0;
  std::int64_t of(Status s) const { return by_status[int(s)]; }
};
StatusCounts count_statuses(const std::vector<Record>& records);

// Adds one record to the counts.
void count_record(StatusCounts& c, const Record& r);

// True when any record fails the run, or a backend given cases executed no
// check (verdict.hpp) where that is neither allowed nor left to merge.
bool run_failed(const Results& r);

// "1180 pass, 40 fail (40 known failures, tolerance file), 2 crash" (zero
// counts left out).
std::string status_line(const StatusCounts& c);

// "1 case", "2 cases": a count and its noun in the right number.
std::string plural(std::int64_t n, std::string_view noun);

}  // namespace normcheck::report
