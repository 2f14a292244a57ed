#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "normcheck/report/results_json.hpp"
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
  CHECK_THAT(md, Contains("1 pass, 3 fail (2 known or advisory), 1 crash, 1 timeout, 1 overrun, 1 "
                          "unsupported, 1 error"));
  CHECK_THAT(md, Contains("| a | layer_norm | dx | f32 | 1 |  | 1 |"));
  CHECK_THAT(md, Contains("| b | layer_norm | y | f32 | 1 |  | 1 (1 known) |"));
  CHECK_THAT(md, Contains("## Not passing"));
  CHECK_THAT(md, Contains("fail (known)"));
}

TEST_CASE("junit.xml: one testcase per record; failures, errors and skips counted") {
  const std::string x = render_junit_xml(testing::sample_results());
  CHECK(occurrences(x, "<testcase ") == 9);
  // a: pass, fail, unsupported (skipped), error, advisory (skipped)
  CHECK_THAT(
      x, Contains("name=\"normcheck.a\" tests=\"5\" failures=\"1\" errors=\"1\" skipped=\"2\""));
  // b: known fail (skipped), crash, timeout, overrun (errors)
  CHECK_THAT(
      x, Contains("name=\"normcheck.b\" tests=\"4\" failures=\"0\" errors=\"3\" skipped=\"1\""));
  CHECK_THAT(x, Contains("<error type=\"crash\" message=\"SIGSEGV (Segmentation fault) in backward "
                         "&lt;&amp;&gt;\""));
  CHECK_THAT(x, Contains("<failure type=\"fail\""));
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
