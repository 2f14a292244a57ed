#include <fmt/format.h>

#include <algorithm>

#include "aggregate.hpp"
#include "normcheck/report/writers.hpp"

namespace normcheck::report {

namespace {

using detail::format_ratio;

// Markdown table cells must not contain '|' or newlines.
std::string cell(std::string s) {
  for (auto& c : s)
    if (c == '|' || c == '\n') c = c == '|' ? '/' : ' ';
  return s;
}

std::string count_cell(std::int64_t n) {
  return n == 0 ? "" : std::to_string(n);
}

}  // namespace

std::string render_summary_markdown(const Results& r) {
  const StatusCounts total = count_statuses(r.records);
  std::string s = "# normcheck results\n\n";
  if (r.run.incomplete) s += fmt::format("**INCOMPLETE RUN**: {}\n\n", r.run.incomplete_reason);
  s += fmt::format("**{}** — {}\n\n", run_failed(r) ? "FAILED" : "PASSED", status_line(total));
  s += fmt::format("- fixtures: `{}`; tolerances: `{}`\n", r.run.fixtures, r.run.tolerances);
  s += "- backends: ";
  for (std::size_t i = 0; i < r.backends.size(); ++i)
    s += fmt::format("{}`{}` {}", i ? ", " : "", r.backends[i].name, r.backends[i].version);
  s += fmt::format("\n- {} cases of {} planned; started {}, finished {}; normcheck {} on {}\n\n",
                   r.run.cases_done, r.run.cases_planned, r.run.started, r.run.finished,
                   r.run.normcheck_version, r.run.hostname);
  s += "Bound ratio: the largest error divided by the documented error bound of a correct kernel "
       "(reports/README.md); a check passes at or below its tolerance.\n\n";

  s += "| backend | op | check | dtype | checks | pass | fail | crash | timeout | overrun | "
       "unsupported | error | "
       "worst bound ratio | tolerance |\n";
  s += "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
       "---: |\n";
  for (const auto& [key, row] : detail::rows_by_backend_op_check_dtype(r.records)) {
    const auto& [backend, op, check, dtype] = key;
    const auto& c = row.counts;
    std::string fail = count_cell(c.of(Status::fail));
    if (c.non_gating_failures > 0) fail += fmt::format(" ({} known)", c.non_gating_failures);
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                     backend, op, check, dtype, c.total, count_cell(c.of(Status::pass)), fail,
                     count_cell(c.of(Status::crash)), count_cell(c.of(Status::timeout)),
                     count_cell(c.of(Status::overrun)), count_cell(c.of(Status::unsupported)),
                     count_cell(c.of(Status::error) + c.of(Status::damaged)),
                     row.worst ? format_ratio(row.worst_ratio) : "-", format_ratio(row.tolerance));
  }

  const auto bad = detail::problems(r.records);
  if (!bad.empty()) {
    s += "\n## Not passing\n\n| status | backend | check | case | bound ratio | message |\n";
    s += "| --- | --- | --- | --- | ---: | --- |\n";
    const std::size_t shown = std::min<std::size_t>(bad.size(), 100);
    for (std::size_t i = 0; i < shown; ++i) {
      const Record& rec = *bad[i];
      std::string status(compare::status_name(rec.status));
      if (!rec.gating) status += " (known)";
      std::string message = rec.message;
      if (!rec.note.empty()) message += (message.empty() ? "" : "; ") + rec.note;
      s += fmt::format("| {} | {} | {} | `{}` | {} | {} |\n", status, rec.backend, rec.check,
                       rec.case_id, format_ratio(rec.bound_ratio), cell(message));
    }
    if (bad.size() > shown)
      s += fmt::format("\n… and {} more (see results.json)\n", bad.size() - shown);
  }
  return s;
}

}  // namespace normcheck::report
