#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "aggregate.hpp"
#include "normcheck/report/verdict.hpp"
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
  const auto tallies = backend_tallies(r);
  s += fmt::format("- {}\n", executed_line(tallies));
  for (const auto& t : empty_backends(r))
    s += fmt::format("- **{}**: {}\n", empty_backend_message(t),
                     t.allow_unsupported ? "allowed (--allow-unsupported or the tolerance file)"
                     : r.run.partial     ? "one shard only: merge judges the whole run"
                                         : "nothing ran, which is not a pass");
  s += fmt::format("- fixtures: `{}`; tolerances: `{}`\n", r.run.fixtures, r.run.tolerances);
  s += "- backends: ";
  for (std::size_t i = 0; i < r.backends.size(); ++i)
    s += fmt::format("{}`{}` {}", i ? ", " : "", r.backends[i].name, r.backends[i].version);
  s += fmt::format("\n- {} of {} planned; started {}, finished {}; normcheck {} on {}\n\n",
                   plural(r.run.cases_done, "case"), r.run.cases_planned, r.run.started,
                   r.run.finished, r.run.normcheck_version, r.run.hostname);

  // What to act on first: the worst failures, each with its reproducer.
  const std::size_t failures = failure_count(r);
  if (failures > 0) {
    const auto top = top_failures(r, 10);
    s += fmt::format("## Failures ({}, worst first{})\n\n```text\n", failures,
                     failures > top.size() ? fmt::format("; top {}", top.size()) : "");
    for (std::size_t i = 0; i < top.size(); ++i) s += failure_text(r, *top[i], i + 1) + "\n";
    s += "```\n\n";
  }
  s += "Bound ratio: the largest error divided by the documented error bound of a correct kernel "
       "(reports/README.md); a check passes at or below its tolerance.\n\n";

  // Rows with something not passing first; rows where every check was
  // declined are collapsed into one line per backend (they carry no measure).
  const auto rows = detail::rows_by_backend_op_check_dtype(r.records);
  std::vector<const std::pair<const detail::RowKey, detail::Row>*> bad_rows, good_rows;
  std::map<std::string, std::vector<std::string>> unsupported_rows;
  for (const auto& entry : rows) {
    const auto& c = entry.second.counts;
    if (c.of(Status::unsupported) == c.total) {
      const auto& [backend, op, check, dtype] = entry.first;
      unsupported_rows[backend].push_back(fmt::format("{} {} {}", op, check, dtype));
    } else if (c.of(Status::pass) + c.of(Status::unsupported) < c.total) {
      bad_rows.push_back(&entry);
    } else {
      good_rows.push_back(&entry);
    }
  }
  s += "| backend | op | check | dtype | checks | pass | fail | crash | timeout | overrun | "
       "unsupported | error | "
       "worst bound ratio | tolerance |\n";
  s += "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
       "---: |\n";
  for (const auto* rows_of : {&bad_rows, &good_rows})
    for (const auto* entry : *rows_of) {
      const auto& [key, row] = *entry;
      const auto& [backend, op, check, dtype] = key;
      const auto& c = row.counts;
      std::string fail = count_cell(c.of(Status::fail));
      if (c.non_gating_failures > 0) fail += fmt::format(" ({} known)", c.non_gating_failures);
      s +=
          fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                      backend, op, check, dtype, c.total, count_cell(c.of(Status::pass)), fail,
                      count_cell(c.of(Status::crash)), count_cell(c.of(Status::timeout)),
                      count_cell(c.of(Status::overrun)), count_cell(c.of(Status::unsupported)),
                      count_cell(c.of(Status::error) + c.of(Status::damaged)),
                      row.worst ? format_ratio(row.worst_ratio) : "-", format_ratio(row.tolerance));
    }
  for (const auto& [backend, names] : unsupported_rows) {
    s += fmt::format(
        "\n<details><summary>{}: {} (op, check, dtype) where every check was "
        "unsupported</summary>\n\n",
        backend, plural(std::int64_t(names.size()), "row"));
    for (const auto& n : names) s += "- " + n + "\n";
    s += "\n</details>\n";
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
