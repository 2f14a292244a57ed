#include <fmt/format.h>

#include <map>

#include "aggregate.hpp"
#include "normcheck/report/writers.hpp"

namespace normcheck::report {

namespace {

using detail::markup_escape;

std::string details(const Record& r) {
  std::string d =
      fmt::format("bound ratio {} (tolerance {}), max abs err {}, max rel err {}, max ulp err {}",
                  detail::format_ratio(r.bound_ratio), detail::format_ratio(r.tolerance),
                  detail::format_value(r.max_abs_err), detail::format_value(r.max_rel_err),
                  detail::format_value(r.max_ulp_err));
  if (r.worst)
    d += fmt::format("\nworst: {}{} golden {} actual {} bound {}", r.worst->tensor,
                     detail::format_index(r.worst->index), detail::format_value(r.worst->golden),
                     detail::format_value(r.worst->actual), detail::format_value(r.worst->bound));
  if (!r.message.empty()) d += "\n" + r.message;
  return d;
}

// The element a CI server shows for a record: failures are <failure>,
// outcomes where nothing was measured are <error>, declined problems and
// known or advisory outcomes are <skipped> (visible, not red).
std::string outcome(const Record& r) {
  if (r.status == Status::pass) return "";
  const std::string type(compare::status_name(r.status));
  if (r.status == Status::unsupported)
    return fmt::format("      <skipped message=\"unsupported: {}\"/>\n", markup_escape(r.message));
  if (!r.gating)
    return fmt::format("      <skipped message=\"{}: {}\">{}</skipped>\n", markup_escape(type),
                       markup_escape(r.note), markup_escape(details(r)));
  const char* element = r.status == Status::fail ? "failure" : "error";
  const std::string message = r.message.empty() ? type : r.message.substr(0, r.message.find('\n'));
  return fmt::format("      <{} type=\"{}\" message=\"{}\">{}</{}>\n", element, type,
                     markup_escape(message), markup_escape(details(r)), element);
}

}  // namespace

std::string render_junit_xml(const Results& r) {
  struct Suite {
    std::int64_t tests = 0, failures = 0, errors = 0, skipped = 0;
    double seconds = 0.0;
    std::string body;
  };
  std::map<std::string, Suite> suites;                        // one per backend
  std::map<std::pair<std::string, std::string>, bool> timed;  // count each case's time once
  for (const auto& rec : r.records) {
    Suite& s = suites[rec.backend];
    ++s.tests;
    if (rec.status == Status::unsupported || (!rec.gating && rec.status != Status::pass))
      ++s.skipped;
    else if (rec.status == Status::fail)
      ++s.failures;
    else if (rec.status != Status::pass)
      ++s.errors;
    const bool first = !timed[{rec.backend, rec.case_id}];
    timed[{rec.backend, rec.case_id}] = true;
    const double seconds = first ? rec.seconds : 0.0;
    s.seconds += seconds;
    s.body +=
        fmt::format("    <testcase classname=\"{}.{}.{}\" name=\"{} [{}]\" time=\"{:.6f}\"",
                    markup_escape(rec.backend), markup_escape(rec.op), markup_escape(rec.check),
                    markup_escape(rec.case_id), markup_escape(rec.check), seconds);
    const std::string inner = outcome(rec);
    s.body += inner.empty() ? "/>\n" : ">\n" + inner + "    </testcase>\n";
  }
  Suite all;
  for (const auto& [name, s] : suites) {
    all.tests += s.tests;
    all.failures += s.failures;
    all.errors += s.errors;
    all.skipped += s.skipped;
    all.seconds += s.seconds;
  }
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format(
      "<testsuites name=\"normcheck\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" "
      "time=\"{:.6f}\">\n",
      all.tests, all.failures, all.errors, all.skipped, all.seconds);
  for (const auto& [name, s] : suites) {
    x += fmt::format(
        "  <testsuite name=\"normcheck.{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
        "skipped=\"{}\" time=\"{:.6f}\" timestamp=\"{}\">\n",
        markup_escape(name), s.tests, s.failures, s.errors, s.skipped, s.seconds,
        markup_escape(r.run.started));
    if (r.run.incomplete)
      x +=
          fmt::format("    <properties><property name=\"incomplete\" value=\"{}\"/></properties>\n",
                      markup_escape(r.run.incomplete_reason));
    x += s.body;
    x += "  </testsuite>\n";
  }
  x += "</testsuites>\n";
  return x;
}

}  // namespace normcheck::report
