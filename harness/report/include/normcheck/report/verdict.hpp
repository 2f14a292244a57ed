// What a kernel author reads first: how many checks each backend actually
// executed, whether "nothing ran" fails the run, and the worst failures with
// a command that reruns each one. Shared by the console, summary.md,
// report.html and junit.xml, so they all say the same thing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "normcheck/report/results.hpp"

namespace normcheck::report {

// The records of one backend, tallied.
struct BackendTally {
  std::string backend;
  std::int64_t cases = 0;             // distinct cases given to it
  std::int64_t checks = 0;            // records
  std::int64_t executed = 0;          // gating records that are not unsupported
  std::int64_t unsupported = 0;       // records the backend declined
  std::string unsupported_example{};  // its most frequent reason for declining
  bool allow_unsupported = false;     // BackendInfo::allow_unsupported
};

// One per backend of the run (Results::backends, then any other backend of
// the records), in that order.
std::vector<BackendTally> backend_tallies(const Results& r);

// Nothing ran is not a pass: the backends that were given at least one case
// and executed no gating check. They fail the run unless allowed
// (allow_unsupported) or the results are one shard of a larger run
// (RunInfo::partial: merge judges the union of the shards).
std::vector<BackendTally> empty_backends(const Results& r);
std::vector<BackendTally> failing_empty_backends(const Results& r);

// "cuda: 0 checks executed (1313 unsupported, e.g. "no CUDA device")".
std::string empty_backend_message(const BackendTally& t);

// "naive 284, cpu 300 checks executed".
std::string executed_line(const std::vector<BackendTally>& tallies);

// "PASSED", or "FAILED"; with known failures "PASSED (24 known failures,
// tolerance file)".
std::string verdict_word(const Results& r);

// The records that fail the run, worst first: unmeasured failures (crash,
// timeout, overrun, error, damaged) above any bound ratio, then by
// descending bound ratio. At most `limit`.
std::vector<const Record*> top_failures(const Results& r, std::size_t limit);
std::size_t failure_count(const Results& r);

// A command line that reruns only this record's case on its backend.
std::string reproducer(const Results& r, const Record& rec);

// `text` quoted for a POSIX shell when it needs it.
std::string shell_quote(const std::string& text);

// A tensor element for people: "y[2, 17]", a scalar as "saved_rstd".
std::string element_name(const WorstElement& w);

// The lines of one failure for a terminal or a Markdown code block:
//   1. fail  bound ratio 3.5 (tolerance 1)  a  dx  ln:f32:...
//      worst dx[1, 7]: golden 1.5 -> actual 1.75 (bound 0.0714), group kappa 1e+04
//      message
//      repro: normcheck run --fixtures DIR --backend a --filter 'ln:...'
std::string failure_text(const Results& r, const Record& rec, std::size_t number);

}  // namespace normcheck::report
