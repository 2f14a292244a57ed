#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "normcheck/report/results_json.hpp"
#include "normcheck/report/verdict.hpp"
#include "normcheck/report/writers.hpp"
#include "sample_results.hpp"

using Catch::Matchers::Contains;
using namespace normcheck::report;

namespace {
std::size_t occurrences(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("summary.md: verdict, counts and one table row per backend x op x check x dtype") {
  const std::string md = render_summary_markdown(testing::sample_results());
  CHECK_THAT(md, Contains("**FAILED**"));
  CHECK_THAT(md, Contains("1 pass, 3 fail (1 known failure, 1 advisory: tolerance file), 1 crash, "
                          "1 timeout, 1 overrun, 1 unsupported, 1 error"));
  CHECK_THAT(md, Contains("| a | layer_norm | dx | f32 | 1 |  | 1 |"));
  CHECK_THAT(md, Contains("| b | layer_norm | y | f32 | 1 |  | 1 (1 known) |"));
  CHECK_THAT(md, Contains("## Not passing"));
  CHECK_THAT(md, Contains("fail (known)"));
}

TEST_CASE("junit.xml: one testcase per case and backend holding its checks, timed once") {
  const std::string x = render_junit_xml(testing::sample_results());
  // One case on two backends.
  CHECK(occurrences(x, "<testcase ") == 2);
  // a: a failing check and an error check: the case is an error, with both elements.
  CHECK_THAT(
      x, Contains("name=\"normcheck.a\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\""));
  CHECK_THAT(x,
             Contains("<failure type=\"fail\" message=\"dx: bound ratio 3.5 &gt; tolerance 1\""));
  CHECK_THAT(x, Contains("<error type=\"error\" message=\"determinism: error\""));
  // b: the known failure is not an element of its own; the crash, timeout, overrun are errors.
  CHECK_THAT(
      x, Contains("name=\"normcheck.b\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\""));
  CHECK_THAT(x, Contains("<error type=\"crash\" message=\"dx: SIGSEGV (Segmentation fault) in "
                         "backward &lt;&amp;&gt;\""));
  CHECK(occurrences(x, "<error ") == 4);
  // The case's time (0.25 s for the whole case) counted once per testcase, not per check.
  CHECK_THAT(x, Contains("time=\"0.250000\""));
  CHECK_THAT(x, Contains("<testsuites name=\"normcheck\" tests=\"2\" failures=\"0\" errors=\"2\" "
                         "time=\"0.500000\">"));
  // Not in the Jenkins schema on <testsuites>.
  CHECK(x.find("<testsuites name=\"normcheck\" tests=\"2\" failures=\"0\" errors=\"2\" skipped") ==
        std::string::npos);
  // Each failure carries its reproducer.
  CHECK_THAT(x,
             Contains("repro: normcheck run --fixtures fixtures/golden/quick --backend /x/liba.so "
                      "--filter &apos;ln:f32:f32:4x8:eps=1e-5:dist=offset&apos;"));
}

TEST_CASE("junit.xml: a case whose checks were all declined is skipped; known failures skipped") {
  Results r = testing::sample_results();
  std::erase_if(r.records, [](const Record& rec) {
    return !(rec.status == Status::unsupported || !rec.gating || rec.status == Status::pass);
  });
  r.backends[1].allow_unsupported = true;  // b keeps only its known failure
  const std::string x = render_junit_xml(r);
  CHECK(occurrences(x, "<skipped ") == 2);
  CHECK(occurrences(x, "<failure ") == 0);
}

TEST_CASE("report.html is self-contained and shows every part") {
  const std::string h = render_html(testing::sample_results());
  CHECK_THAT(h, Contains("<!DOCTYPE html>"));
  CHECK_THAT(h, Contains("FAILED"));
  CHECK_THAT(h, Contains("Pass/fail by op and dtype"));
  CHECK_THAT(h, Contains("<svg"));
  CHECK_THAT(h, Contains("Error versus condition number"));
  CHECK_THAT(h, Contains("Largest bound ratios"));
  CHECK_THAT(h, Contains("SIGSEGV (Segmentation fault) in backward &lt;&amp;&gt;"));  // escaped
  // No network: nothing is fetched (the SVG namespace is an identifier, not a request).
  CHECK(h.find("src=\"http") == std::string::npos);
  CHECK(h.find("href=\"http") == std::string::npos);
  CHECK(h.find("<script src") == std::string::npos);
  CHECK(h.find("@import") == std::string::npos);
}

TEST_CASE("write_reports writes the four files, and results.json reads back") {
  const auto dir = std::filesystem::temp_directory_path() / "normcheck_report_test";
  std::filesystem::remove_all(dir);
  const auto paths = write_reports(testing::sample_results(), dir / "nested");
  for (const auto& p : {paths.json, paths.summary, paths.junit, paths.html}) {
    CHECK(std::filesystem::file_size(p) > 100);
    CHECK_FALSE(std::filesystem::exists(p.string() + ".tmp"));
  }
  CHECK(read_results(paths.json).records.size() == 9);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "summary.md: the worst failures first with a reproducer; all-unsupported rows collapsed") {
  Results r = testing::sample_results();
  Record declined = r.records[6];  // a's unsupported saved_rstd
  REQUIRE(declined.status == Status::unsupported);
  declined.check = "eval_y";
  r.records.push_back(declined);
  const std::string md = render_summary_markdown(r);
  const auto failures = md.find("## Failures (5, worst first)");
  REQUIRE(failures != std::string::npos);
  // Before the big table, and unmeasured failures above the measured one.
  CHECK(failures < md.find("| backend | op | check |"));
  CHECK(md.find("crash  b  dx") < md.find("fail  a  dx"));
  CHECK_THAT(
      md, Contains("worst dx[1, 7]: golden 1.5 -> actual 1.75 (bound 0.0714), group kappa 10000"));
  CHECK_THAT(md,
             Contains("repro: normcheck run --fixtures fixtures/golden/quick --backend /x/libb.so "
                      "--filter 'ln:f32:f32:4x8:eps=1e-5:dist=offset'"));
  // Rows with something not passing come before rows that pass.
  CHECK(md.find("| a | layer_norm | dx |") < md.find("| a | layer_norm | y |"));
  // The all-unsupported rows are not table rows but one collapsed list.
  CHECK(md.find("| a | layer_norm | eval_y |") == std::string::npos);
  CHECK_THAT(md, Contains("a: 2 rows (op, check, dtype) where every check was unsupported"));
  CHECK_THAT(md, Contains("- layer_norm eval_y f32"));
}

TEST_CASE("report.html: failures at the top, anchored, descriptors break only between fields") {
  const std::string h = render_html(testing::sample_results());
  const auto failures = h.find("<table id=failures>");
  REQUIRE(failures != std::string::npos);
  CHECK(failures < h.find("Pass/fail by op and dtype"));
  CHECK(failures < h.find("<table class=meta>"));
  CHECK_THAT(h, Contains("<tr id=failure-1><td><a href=\"#failure-1\">1</a>"));
  CHECK_THAT(h,
             Contains("<code class=d><span class=t>ln</span>:<wbr><span class=t>f32</span>:<wbr>"));
  CHECK_THAT(h, Contains("<span class=t>eps=1e-5</span>"));
  CHECK_THAT(h, Contains("<code class=repro>normcheck run --fixtures fixtures/golden/quick"));
  CHECK_THAT(h, Contains("copy reproducer"));
}

TEST_CASE("report.html: PASSED beside known failures says so") {
  Results r = testing::sample_results();
  std::erase_if(r.records, [](const Record& rec) { return rec.fails_run(); });
  r.backends[1].allow_unsupported = true;  // b keeps only its known failure
  const std::string h = render_html(r);
  CHECK_THAT(h, Contains(">PASSED (1 known failure, tolerance file)</span>"));
  CHECK_THAT(render_summary_markdown(r),
             Contains("**PASSED** — 1 pass, 2 fail (1 known failure, 1 advisory: tolerance file)"));
}

TEST_CASE(
    "report.html: the scatter plot's y axis reaches the largest ratio, inf on a row of its own") {
  Results r = testing::sample_results();
  r.records[0].bound_ratio = 3e17;  // a pass record with kappa 1e4: measured
  r.records[0].status = Status::fail;
  const std::string h = render_html(r);
  CHECK_THAT(h, Contains(">1e16</text>"));  // labels every third decade down from the top
  CHECK_THAT(h, Contains(">inf</text>"));   // the known failure's ratio is infinite
}

TEST_CASE("a scalar output's worst element prints without []") {
  WorstElement w;
  w.tensor = "saved_rstd";
  CHECK(element_name(w) == "saved_rstd");
  w.index = {2, 3};
  CHECK(element_name(w) == "saved_rstd[2, 3]");
  Results r = testing::sample_results();
  r.records[1].worst->index.clear();
  CHECK(render_html(r).find("dx[]") == std::string::npos);
  CHECK(render_summary_markdown(r).find("dx[]") == std::string::npos);
  CHECK(render_junit_xml(r).find("dx[]") == std::string::npos);
}

TEST_CASE("plurals") {
  CHECK(plural(1, "case") == "1 case");
  CHECK(plural(0, "case") == "0 cases");
  CHECK(plural(2, "known failure") == "2 known failures");
}

TEST_CASE("write_reports: a message that is not UTF-8 leaves no invalid byte in any report") {
  // Found by the fixture mutant sweep: a damaged fixture's attribute bytes,
  // quoted in its record, made results.json fail (every result lost) and
  // summary.md, junit.xml and report.html invalid UTF-8.
  const auto dir = std::filesystem::temp_directory_path() / "normcheck_report_utf8_test";
  std::filesystem::remove_all(dir);
  auto results = testing::sample_results();
  for (auto& r : results.records) r.message += " \xff\xe1\x63";
  const auto paths = write_reports(results, dir);
  for (const auto& p : {paths.json, paths.summary, paths.junit, paths.html}) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    INFO(p.string());
    CHECK(text.str().find('\xff') == std::string::npos);  // never valid in UTF-8
    CHECK(text.str().find("\xe1\x63") == std::string::npos);  // a lead byte without its continuation
  }
  std::filesystem::remove_all(dir);
}
