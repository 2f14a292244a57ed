// report.html: one self-contained page. Everything is inline (CSS, SVG);
// the page makes no request, so it opens the same from a CI artifact, an
// e-mail attachment or a machine without network.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "aggregate.hpp"
#include "normcheck/report/verdict.hpp"
#include "normcheck/report/writers.hpp"
#include "svg_chart.hpp"

namespace normcheck::report {

namespace {

using detail::format_ratio;
using detail::format_value;
using detail::markup_escape;
using detail::Series;

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1350px}
h1{margin:0 0 6px;font-size:24px} h2{margin:28px 0 8px;font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px}
.verdict{display:inline-block;padding:3px 10px;border-radius:4px;color:#fff;font-weight:600;margin-right:8px}
.PASSED{background:#2e7d32}.FAILED{background:#c62828}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;margin:10px 0;border-radius:4px}
table{border-collapse:collapse;margin:6px 0} th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta td{border:none;padding:1px 10px 1px 0} .small{font-size:12px;color:#555}
.cell{text-align:center;min-width:90px;font-variant-numeric:tabular-nums}
.s-pass{background:#c8e6c9}.s-known{background:repeating-linear-gradient(45deg,#ffe0b2,#ffe0b2 6px,#fff3e0 6px,#fff3e0 12px)}
.s-fail{background:#ef9a9a}.s-broken{background:#b71c1c;color:#fff}.s-unsupported{background:#eeeeee;color:#777}
.chip{display:inline-block;padding:1px 8px;margin:2px 4px 2px 0;border-radius:10px;border:1px solid #ccc;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:10px}
svg{background:#fff;border:1px solid #e5e5e5} .ct{font-weight:600;font-size:13px} .lg,.ax{font-size:11px;fill:#444}
.grid{stroke:#eee} .axis{stroke:#999} .tol{stroke:#c62828;stroke-dasharray:4 3}
code{font-size:12px} code.d .t{white-space:nowrap}
code.repro{display:block;white-space:pre;overflow-x:auto;user-select:all;background:#f6f6f6;padding:2px 4px;max-width:1100px}
.copy{font-size:11px;margin:2px 0;cursor:pointer} #failures td{white-space:nowrap} #failures td.wrap{white-space:normal}
.nothing{background:#ffebee;border:1px solid #c62828} .msg{min-width:260px;max-width:420px;font-size:12px;white-space:pre-wrap}
.case{min-width:230px;max-width:300px} .matrices{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
)";

// The worst outcome of a set of records, as a CSS class.
std::string cell_class(const StatusCounts& c) {
  const std::int64_t broken =
      c.of(Status::crash) + c.of(Status::timeout) + c.of(Status::overrun) + c.of(Status::error) +
      c.of(Status::damaged);
  const std::int64_t failed = c.of(Status::fail) + broken;
  if (failed > c.non_gating_failures) return broken > 0 ? "s-broken" : "s-fail";
  if (c.non_gating_failures > 0) return "s-known";
  if (c.of(Status::pass) == 0) return "s-unsupported";
  return "s-pass";
}

std::string cell_text(const StatusCounts& c) {
  std::string t = fmt::format("{}/{}", c.of(Status::pass), c.total);
  const std::int64_t bad = c.total - c.of(Status::pass) - c.of(Status::unsupported);
  if (bad > 0)
    t += fmt::format(
        "<br><span class=small>{} not passing{}</span>", bad,
        c.non_gating_failures > 0 ? fmt::format(", {} known", c.non_gating_failures) : "");
  if (c.of(Status::unsupported) > 0)
    t += fmt::format("<br><span class=small>{} unsupported</span>", c.of(Status::unsupported));
  return t;
}

void add(StatusCounts& c, const Record& r) {
  ++c.by_status[int(r.status)];
  ++c.total;
  if (!r.gating && r.status != Status::pass && r.status != Status::unsupported)
    ++c.non_gating_failures;
}

std::vector<std::string> backend_names(const Results& r) {
  std::vector<std::string> names;
  for (const auto& b : r.backends) names.push_back(b.name);
  for (const auto& rec : r.records)
    if (std::find(names.begin(), names.end(), rec.backend) == names.end())
      names.push_back(rec.backend);
  return names;
}

// A matrix of rows (by `row_key`) x backends, each cell coloured by its worst outcome.
template <class RowKey>
std::string matrix(const Results& r, const std::vector<std::string>& backends,
                   const std::string& row_header, RowKey row_key) {
  std::map<std::string, std::map<std::string, StatusCounts>> cells;
  for (const auto& rec : r.records) add(cells[row_key(rec)][rec.backend], rec);
  std::string s = "<table><tr><th>" + markup_escape(row_header) + "</th>";
  for (const auto& b : backends) s += "<th>" + markup_escape(b) + "</th>";
  s += "</tr>\n";
  for (const auto& [row, by_backend] : cells) {
    s += "<tr><th>" + markup_escape(row) + "</th>";
    for (const auto& b : backends) {
      const auto it = by_backend.find(b);
      if (it == by_backend.end())
        s += "<td class=cell></td>";
      else
        s += fmt::format("<td class=\"cell {}\">{}</td>", cell_class(it->second),
                         cell_text(it->second));
    }
    s += "</tr>\n";
  }
  return s + "</table>\n";
}

// Bins of log10(bound ratio): exact, then decades up to 1e4, then beyond.
std::size_t ratio_bin(double ratio) {
  if (ratio == 0.0) return 0;
  if (std::isinf(ratio)) return 11;
  const double l = std::floor(std::log10(ratio));  // [1e-6,1e-5) -> -6
  return std::size_t(std::clamp(l + 7.0, 1.0, 11.0));
}

const std::vector<std::string>& ratio_bin_labels() {
  static const std::vector<std::string> labels{"0",   "<1e-5", "1e-5", "1e-4", "1e-3", "0.01",
                                               "0.1", "1",     "10",   "100",  "1e3",  ">=1e4"};
  return labels;
}

std::string histograms(const Results& r, const std::vector<std::string>& backends) {
  std::map<std::string, std::vector<Series>> per_op;
  for (const auto& rec : r.records) {
    if (!rec.measured()) continue;
    auto& series = per_op[rec.op];
    if (series.empty())
      for (const auto& b : backends)
        series.push_back({b, std::vector<double>(ratio_bin_labels().size(), 0.0), {}, {}});
    const auto b =
        std::size_t(std::find(backends.begin(), backends.end(), rec.backend) - backends.begin());
    series[b].values[ratio_bin(rec.bound_ratio)] += 1.0;
  }
  std::string s = "<div class=charts>";
  for (const auto& [op, series] : per_op)
    s += detail::histogram_svg(ratio_bin_labels(), series, 7, op, 660, 230);  // bin 7 is [1, 10)
  return s + "</div>\n";
}

std::string kappa_scatter(const Results& r, const std::vector<std::string>& backends) {
  std::vector<Series> series;
  for (const auto& b : backends) series.push_back({b, {}, {}, {}});
  std::size_t points = 0;
  // The axes cover the data: decades up to the largest finite ratio and
  // kappa, and a row of their own for infinite ratios.
  double max_ratio = 1e6, max_kappa = 1e6;
  bool any_inf = false;
  for (const auto& rec : r.records) {
    if (!rec.measured() || !(rec.kappa > 0.0)) continue;
    if (std::isinf(rec.bound_ratio))
      any_inf = true;
    else
      max_ratio = std::max(max_ratio, rec.bound_ratio);
    const double k = rec.worst && rec.worst->kappa ? *rec.worst->kappa : rec.kappa;
    if (std::isfinite(k)) max_kappa = std::max(max_kappa, k);
  }
  const int y_hi = int(std::ceil(std::log10(max_ratio))) + (any_inf ? 1 : 0);
  const int x_hi = int(std::ceil(std::log10(max_kappa)));
  for (const auto& rec : r.records) {
    if (!rec.measured() || !(rec.kappa > 0.0)) continue;
    const auto b =
        std::size_t(std::find(backends.begin(), backends.end(), rec.backend) - backends.begin());
    series[b].x.push_back(rec.worst && rec.worst->kappa ? *rec.worst->kappa : rec.kappa);
    // Exact results (ratio 0) sit on the floor row labelled 0, tiny ones just above it.
    const double y = rec.bound_ratio == 0.0        ? 1e-7
                     : std::isinf(rec.bound_ratio) ? std::pow(10.0, y_hi)
                                                   : std::max(rec.bound_ratio, 1e-6);
    series[b].values.push_back(y);
    series[b].titles.push_back(fmt::format("{} {} {}: ratio {}", rec.backend, rec.check,
                                           rec.case_id, format_ratio(rec.bound_ratio)));
    ++points;
  }
  if (points == 0) return "<p class=small>No measured checks.</p>";
  return detail::scatter_svg(series, 0, x_hi, -7, y_hi, any_inf, 1.0,
                             "kappa (condition number of the worst element's group)", "bound ratio",
                             1000, 420);
}

// A descriptor that wraps only between its fields, never inside one
// ("eps=1e-5" stays whole): each field is an unbreakable span, with a break
// opportunity after each ':'.
std::string descriptor_html(const std::string& descriptor) {
  std::string s = "<code class=d>";
  std::size_t start = 0;
  while (true) {
    const auto colon = descriptor.find(':', start);
    s += "<span class=t>" + markup_escape(descriptor.substr(start, colon - start)) + "</span>";
    if (colon == std::string::npos) break;
    s += ":<wbr>";
    start = colon + 1;
  }
  return s + "</code>";
}

// The failures to act on first, worst first, each with a reproducer that
// selects whole on a click (user-select: all) and a copy button.
std::string failures_section(const Results& r) {
  const std::size_t count = failure_count(r);
  std::string s;
  const auto empty = empty_backends(r);
  for (const auto& t : empty)
    s += fmt::format("<div class=\"banner{}\"><b>{}</b>: {}</div>\n",
                     t.allow_unsupported || r.run.partial ? "" : " nothing",
                     markup_escape(empty_backend_message(t)),
                     t.allow_unsupported ? "allowed (--allow-unsupported or the tolerance file)"
                     : r.run.partial     ? "one shard only: normcheck merge judges the whole run"
                                         : "nothing ran, which is not a pass (pass "
                                           "--allow-unsupported when that is expected)");
  if (count == 0) return s;
  const auto top = top_failures(r, 10);
  s += fmt::format(
      "<h2 id=failures-title>Failures ({}{})</h2>\n<p class=small>Worst first: crashes and other "
      "failures without a measure, then by bound ratio. All not-passing checks are "
      "<a href=\"#not-passing\">below</a>.</p>\n",
      count, count > top.size() ? fmt::format(", top {}", top.size()) : "");
  s += "<table id=failures><tr><th>#</th><th>status</th><th>backend</th><th>check</th>"
       "<th>case</th><th>bound ratio<br>(tolerance)</th><th>worst element</th>"
       "<th>golden &rarr; actual (bound)</th><th>group kappa</th></tr>\n";
  for (std::size_t i = 0; i < top.size(); ++i) {
    const Record& rec = *top[i];
    s += fmt::format(
        "<tr id=failure-{0}><td><a href=\"#failure-{0}\">{0}</a></td><td>{1}</td><td>{2}</td>"
        "<td>{3}</td><td>{4}</td><td class=num>{5}<br><span class=small>({6})</span></td>",
        i + 1, compare::status_name(rec.status), markup_escape(rec.backend),
        markup_escape(rec.check), descriptor_html(rec.case_id), format_ratio(rec.bound_ratio),
        format_ratio(rec.tolerance));
    if (rec.worst) {
      const auto& w = *rec.worst;
      s += fmt::format(
          "<td><code>{}</code></td><td class=num>{} &rarr; {} <span class=small>({})</span></td>"
          "<td class=num>{}</td></tr>\n",
          markup_escape(element_name(w)), format_value(w.golden), format_value(w.actual),
          format_value(w.bound), w.kappa ? format_value(*w.kappa) : "-");
    } else {
      s += "<td>-</td><td>-</td><td>-</td></tr>\n";
    }
    std::string message = rec.message.substr(0, rec.message.find('\n'));
    s += fmt::format(
        "<tr><td></td><td colspan=8 class=wrap>{}{}<code class=repro>{}</code>"
        "<button class=copy type=button onclick=\"navigator.clipboard.writeText("
        "this.previousElementSibling.textContent)\">copy reproducer</button></td></tr>\n",
        markup_escape(message), message.empty() ? "" : "<br>", markup_escape(reproducer(r, rec)));
  }
  return s + "</table>\n";
}

std::string worst_table(const std::vector<const Record*>& rows, std::size_t limit) {
  std::string s =
      "<table><tr><th>backend</th><th class=case>case</th><th>check</th><th>status</th><th>bound "
      "ratio<br>"
      "(tolerance)</th><th>max ULP</th><th>worst element</th><th>golden &rarr; actual (bound)</th>"
      "<th>its group: mean, rstd, kappa</th><th class=msg>message</th></tr>\n";
  for (std::size_t i = 0; i < rows.size() && i < limit; ++i) {
    const Record& r = *rows[i];
    std::string status(compare::status_name(r.status));
    if (!r.gating) status += " (known)";
    s += fmt::format(
        "<tr><td>{}</td><td class=case>{}</td><td>{}</td><td>{}</td>"
        "<td class=num>{}<br><span class=small>({})</span></td><td class=num>{}</td>",
        markup_escape(r.backend), descriptor_html(r.case_id), markup_escape(r.check), status,
        format_ratio(r.bound_ratio), format_ratio(r.tolerance), format_ratio(r.max_ulp_err));
    if (r.worst) {
      const auto& w = *r.worst;
      const auto opt = [](const std::optional<double>& v) {
        return v ? format_value(*v) : std::string("-");
      };
      s += fmt::format(
          "<td><code>{}</code></td><td class=num>{} &rarr; {}<br><span "
          "class=small>({})</span></td>"
          "<td class=num>{}<br>{}<br>{}</td>",
          markup_escape(element_name(w)), format_value(w.golden), format_value(w.actual),
          format_value(w.bound), opt(w.group_mean), opt(w.group_rstd), opt(w.kappa));
    } else {
      s += "<td>-</td><td>-</td><td>-</td>";
    }
    std::string message = r.message;
    if (!r.note.empty()) message += (message.empty() ? "" : "\n") + r.note;
    s += "<td class=msg>" + markup_escape(message) + "</td></tr>\n";
  }
  if (rows.size() > limit)
    s += fmt::format("<tr><td colspan=10>… {} more in results.json</td></tr>", rows.size() - limit);
  return s + "</table>\n";
}

}  // namespace

std::string render_html(const Results& r) {
  const StatusCounts total = count_statuses(r.records);
  const std::vector<std::string> backends = backend_names(r);
  const bool failed = run_failed(r);
  std::string h =
      "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>normcheck report</title>";
  h += "<meta name=viewport content=\"width=device-width, initial-scale=1\"><style>";
  h += kStyle;
  h += "</style></head><body>\n";
  h += fmt::format("<h1>normcheck report</h1><p><span class=\"verdict {}\">{}</span>",
                   failed ? "FAILED" : "PASSED", markup_escape(verdict_word(r)));
  for (Status st : compare::kAllStatuses)
    if (total.of(st) > 0 || st == Status::pass)
      h += fmt::format("<span class=chip>{} {}</span>", total.of(st), compare::status_name(st));
  if (total.known_failures > 0)
    h += fmt::format("<span class=chip>{} (tolerance file; not failing the run)</span>",
                     plural(total.known_failures, "known failure"));
  if (total.non_gating_failures > total.known_failures)
    h += fmt::format("<span class=chip>{} advisory (not failing the run)</span>",
                     total.non_gating_failures - total.known_failures);
  h += fmt::format("<span class=chip>{}</span>", markup_escape(executed_line(backend_tallies(r))));
  h += "</p>\n";
  if (r.run.incomplete)
    h += "<div class=banner><b>Incomplete run:</b> " + markup_escape(r.run.incomplete_reason) +
         "</div>\n";
  h += failures_section(r);
  h += "<table class=meta>";
  const auto meta = [&h](const char* k, const std::string& v) {
    if (!v.empty())
      h += fmt::format("<tr><td class=small>{}</td><td>{}</td></tr>", k, markup_escape(v));
  };
  std::string backend_list;
  for (const auto& b : r.backends)
    backend_list += (backend_list.empty() ? "" : ", ") + b.name + " " + b.version;
  meta("backends", backend_list);
  meta("fixtures", r.run.fixtures);
  meta("tolerances", r.run.tolerances);
  meta("cases",
       fmt::format("{} of {} planned", plural(r.run.cases_done, "case"), r.run.cases_planned));
  meta("filter", r.run.filter);
  meta("shard", r.run.shard);
  meta("time", r.run.started + " to " + r.run.finished);
  meta("machine", r.run.hostname + " — " + r.run.machine);
  meta("normcheck", r.run.normcheck_version);
  meta("command", r.run.command);
  h += "</table>\n";
  h += "<p class=small>A check measures the largest error of a backend's output against the "
       "certified golden value "
       "and divides it by the documented error bound of a correct kernel for that case (the "
       "<i>bound ratio</i>, "
       "reports/README.md). It passes at or below its tolerance. Striped cells hold known failures "
       "listed in the "
       "tolerance file: they are reported, not hidden, but do not fail the run.</p>\n";

  h += "<div class=matrices><div><h2>Pass/fail by op and dtype</h2>\n";
  h +=
      matrix(r, backends, "op / dtype", [](const Record& rec) { return rec.op + " " + rec.dtype; });
  h += "</div><div><h2>Pass/fail by check</h2>\n";
  h += matrix(r, backends, "check", [](const Record& rec) { return rec.check; });
  h += "</div></div>\n";
  h += "<h2>Error distributions per op</h2>\n<p class=small>How many checks land at each bound "
       "ratio, per backend. "
       "Each bin holds ratios from its label up to ten times it; right of the dashed line is above "
       "the default "
       "tolerance of 1.</p>\n";
  h += histograms(r, backends);
  h += "<h2>Error versus condition number</h2>\n<p class=small>Each point is one check; x is the "
       "condition number "
       "kappa = max|h|·rstd of the group holding its worst element. The bound grows with kappa, so "
       "a correct kernel "
       "stays level below the line at any kappa; a kernel whose error grows like kappa² climbs "
       "with slope one.</p>\n";
  h += kappa_scatter(r, backends);
  const auto bad = detail::problems(r.records);
  h += fmt::format("<h2 id=not-passing>Not passing ({})</h2>\n", bad.size());
  h += bad.empty() ? std::string("<p>Every check passed.</p>\n") : worst_table(bad, 300);
  h += "<h2>Largest bound ratios</h2>\n";
  h += worst_table(detail::by_bound_ratio(r.records), 25);
  h += fmt::format(
      "<p class=small>results.json schema version {} — documented in reports/README.md.</p>\n",
      r.schema_version);
  return h + "</body></html>\n";
}

}  // namespace normcheck::report
