#include <fmt/format.h>

#include <unistd.h>

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
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw model::InputError(fmt::format("cannot write {}: {}", path.string(), ec.message()));
}

constexpr const char* kReportNames[] = {"results.json", "summary.md", "junit.xml", "report.html"};

}  // namespace

void check_report_folder(const std::filesystem::path& dir, std::string_view option) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw model::InputError(fmt::format("{} {}: cannot create the folder{}", option, dir.string(),
                                        ec ? ": " + ec.message() : ""));
  for (const char* name : kReportNames) {
    const auto file = dir / name;
    if (std::filesystem::exists(file, ec) && !std::filesystem::is_regular_file(file, ec))
      throw model::InputError(
          fmt::format("{} {}: {} exists and is not a regular file", option, dir.string(), name));
  }
  if (::access(dir.c_str(), W_OK) != 0)
    throw model::InputError(fmt::format("{} {}: folder is not writable", option, dir.string()));
}

ReportPaths write_reports(const Results& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw model::InputError(fmt::format("report directory {}: {}", dir.string(), ec.message()));
  ReportPaths p{dir / kReportNames[0], dir / kReportNames[1], dir / kReportNames[2],
                dir / kReportNames[3]};
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
