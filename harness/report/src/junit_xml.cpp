// junit.xml: one <testcase> per (case, backend) holding all its checks, so
// its time is the case's measured wall time (checks are not timed apart).
// Valid against the Jenkins xunit plugin's JUnit schema
// (harness/report/tests/junit-jenkins.xsd, checked with xmllint in CTest).
#include <fmt/format.h>

#include <map>

#include "aggregate.hpp"
#include "normcheck/report/verdict.hpp"
#include "normcheck/report/writers.hpp"

namespace normcheck::report {

namespace {

using detail::markup_escape;

std::string details(const Results& res, const Record& r) {
  std::string d = fmt::format(
      "check {}: bound ratio {} (tolerance {}), max abs err {}, max rel err {}, max ulp err {}",
      r.check, detail::format_ratio(r.bound_ratio), detail::format_ratio(r.tolerance),
      detail::format_value(r.max_abs_err), detail::format_value(r.max_rel_err),
      detail::format_value(r.max_ulp_err));
  if (r.worst)
    d += fmt::format("\nworst: {} golden {} actual {} bound {}", element_name(*r.worst),
                     detail::format_value(r.worst->golden), detail::format_value(r.worst->actual),
                     detail::format_value(r.worst->bound));
  if (!r.message.empty()) d += "\n" + r.message;
  if (!r.note.empty()) d += "\n" + r.note;
  d += "\nrepro: " + reproducer(res, r);
  return d;
}

// What a CI server shows for one case: each check that fails the run is a
// <failure> (measured out of tolerance) or an <error> (nothing measured:
// crash, timeout, ...); a case whose checks were all declined, or whose
// only problems are known or advisory, is <skipped> (visible, not red).
enum class Outcome { pass, skipped, failure, error };

struct TestCase {
  const Record* first = nullptr;
  std::vector<const Record*> checks;
  Outcome outcome() const {
    bool failure = false, error = false, all_unsupported = true, excused = false;
    for (const Record* r : checks) {
      all_unsupported = all_unsupported && r->status == Status::unsupported;
      if (r->fails_run()) (r->status == Status::fail ? failure : error) = true;
      if (!r->gating && r->status != Status::pass && r->status != Status::unsupported)
        excused = true;
    }
    if (error) return Outcome::error;
    if (failure) return Outcome::failure;
    if (all_unsupported || excused) return Outcome::skipped;
    return Outcome::pass;
  }
};

std::string body(const Results& res, const TestCase& t) {
  std::string s;
  const Outcome o = t.outcome();
  if (o == Outcome::failure || o == Outcome::error) {
    for (const Record* r : t.checks) {
      if (!r->fails_run()) continue;
      const char* element = r->status == Status::fail ? "failure" : "error";
      const std::string first_line = r->message.substr(0, r->message.find('\n'));
      s += fmt::format(
          "      <{} type=\"{}\" message=\"{}\">{}</{}>\n", element,
          compare::status_name(r->status),
          markup_escape(
              r->check + ": " +
              (first_line.empty() ? std::string(compare::status_name(r->status)) : first_line)),
          markup_escape(details(res, *r)), element);
    }
  } else if (o == Outcome::skipped) {
    std::string message, text;
    for (const Record* r : t.checks) {
      if (r->status == Status::pass) continue;
      if (message.empty())
        message = r->status == Status::unsupported
                      ? "unsupported: " + r->message
                      : std::string(compare::status_name(r->status)) + " (" + r->note + ")";
      text += (text.empty() ? "" : "\n\n") + details(res, *r);
    }
    s += fmt::format("      <skipped message=\"{}\"/>\n", markup_escape(message));
    s += fmt::format("      <system-out>{}</system-out>\n", markup_escape(text));
  }
  return s;
}

}  // namespace

std::string render_junit_xml(const Results& r) {
  struct Suite {
    std::int64_t tests = 0, failures = 0, errors = 0, skipped = 0;
    double seconds = 0.0;
    std::string body;
  };
  // Cases in record order, per backend.
  std::map<std::string, std::vector<TestCase>> cases;
  std::map<std::pair<std::string, std::string>, std::size_t> position;
  for (const auto& rec : r.records) {
    auto& list = cases[rec.backend];
    const auto [it, added] = position.emplace(std::pair{rec.backend, rec.case_id}, list.size());
    if (added) list.push_back({&rec, {}});
    list[it->second].checks.push_back(&rec);
  }
  std::map<std::string, Suite> suites;  // one per backend
  for (const auto& [backend, list] : cases) {
    Suite& s = suites[backend];
    for (const auto& t : list) {
      ++s.tests;
      const Outcome o = t.outcome();
      if (o == Outcome::skipped) ++s.skipped;
      if (o == Outcome::failure) ++s.failures;
      if (o == Outcome::error) ++s.errors;
      s.seconds += t.first->seconds;
      s.body +=
          fmt::format("    <testcase classname=\"normcheck.{}.{}\" name=\"{}\" time=\"{:.6f}\"",
                      markup_escape(backend), markup_escape(t.first->op),
                      markup_escape(t.first->case_id), t.first->seconds);
      const std::string inner = body(r, t);
      s.body += inner.empty() ? "/>\n" : ">\n" + inner + "    </testcase>\n";
    }
  }
  // Nothing ran is not a pass: a red testcase of its own.
  for (const auto& t : failing_empty_backends(r)) {
    Suite& s = suites[t.backend];
    ++s.tests;
    ++s.failures;
    s.body += fmt::format(
        "    <testcase classname=\"normcheck.{}\" name=\"checks executed\" time=\"0\">\n"
        "      <failure type=\"nothing_ran\" message=\"{}\">nothing ran is not a pass: pass "
        "--allow-unsupported (or allow_unsupported = true for this backend in the tolerance "
        "file) when that is expected</failure>\n    </testcase>\n",
        markup_escape(t.backend), markup_escape(empty_backend_message(t)));
  }
  Suite all;
  for (const auto& [name, s] : suites) {
    all.tests += s.tests;
    all.failures += s.failures;
    all.errors += s.errors;
    all.seconds += s.seconds;
  }
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  // <testsuites> takes no 'skipped' in the Jenkins schema; each testsuite has it.
  x += fmt::format(
      "<testsuites name=\"normcheck\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
      "time=\"{:.6f}\">\n",
      all.tests, all.failures, all.errors, all.seconds);
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
