#include <fmt/format.h>

#include <fstream>

#include "normcheck/model/problem.hpp"
#include "normcheck/report/results_json.hpp"
#include "normcheck/report/writers.hpp"

namespace normcheck::report {

namespace {

void write_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw model::InputError(fmt::format("cannot write {}", tmp.string()));
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

ReportPaths write_reports(const Results& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw model::InputError(fmt::format("report directory {}: {}", dir.string(), ec.message()));
  ReportPaths p{dir / "results.json", dir / "summary.md", dir / "junit.xml", dir / "report.html"};
  const std::string json = results_to_json(r);
  write_atomically(p.json, json);
  // The other reports are rendered from results.json as written
  // (results.hpp), so text that was not UTF-8 (quoted from a damaged file
  // or a plugin) reads as U+FFFD in all four instead of making three of
  // them invalid.
  const Results written = results_from_json(json, p.json.string());
  write_atomically(p.summary, render_summary_markdown(written));
  write_atomically(p.junit, render_junit_xml(written));
  write_atomically(p.html, render_html(written));
  return p;
}

}  // namespace normcheck::report
