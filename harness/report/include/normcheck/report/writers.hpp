// The four report files of a run, rendered from Results:
//   results.json  machine-readable, the input of compare, merge, tolerances
//   summary.md    a table per backend x op x check x dtype, for people and PRs
//   junit.xml     one testcase per (case, backend, check), for CI servers
//   report.html   one self-contained page: matrix, histograms, kappa scatter,
//                 worst cases (no network access, inline CSS and SVG)
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "normcheck/report/results.hpp"

namespace normcheck::report {

std::string render_summary_markdown(const Results& r);
std::string render_junit_xml(const Results& r);
std::string render_html(const Results& r);

struct ReportPaths {
  std::filesystem::path json, summary, junit, html;
};

// Called before a run or merge, not after it: creates `dir` and throws
// InputError naming `option` ("--report") when it cannot be made or written,
// or when one of the four report names exists there as something other
// than a regular file (a folder named results.json).
void check_report_folder(const std::filesystem::path& dir, std::string_view option);

// Writes all four into `dir` (created if needed). Each file is written to a
// temporary name and renamed, so a reader never sees half a report.
ReportPaths write_reports(const Results& r, const std::filesystem::path& dir);

}  // namespace normcheck::report
