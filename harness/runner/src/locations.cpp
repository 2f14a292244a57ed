#include "normcheck/runner/locations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "normcheck/model/problem.hpp"

namespace normcheck::runner {

namespace {

constexpr std::string_view kCommittedSuite = "quick";

}  // namespace

std::filesystem::path project_root() {
  if (const char* env = std::getenv("NORMCHECK_ROOT"); env != nullptr && *env != '\0') return env;
  // An installed CLI (cmake --install) finds its data relative to its own
  // binary, so the prefix can move and the source tree can be gone.
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / NORMCHECK_INSTALLED_DATA_DIR;
    if (std::filesystem::is_regular_file(installed / "reports" / "tolerances" / "default.toml", ec))
      return installed;
  }
  return NORMCHECK_SOURCE_DIR;
}

std::filesystem::path suites_dir(const std::filesystem::path& root) {
  return root / "fixtures" / "suites";
}

SuiteLocation locate_suite(std::string_view name, const std::filesystem::path& root) {
  SuiteLocation s;
  s.name = std::string(name);
  s.definition = suites_dir(root) / (s.name + ".txt");
  std::error_code ec;
  if (name.empty() || name.find('/') != std::string_view::npos ||
      !std::filesystem::is_regular_file(s.definition, ec)) {
    std::vector<std::string> known;
    for (const auto& e : std::filesystem::directory_iterator(suites_dir(root), ec))
      if (e.path().extension() == ".txt") known.push_back(e.path().stem().string());
    std::sort(known.begin(), known.end());
    throw model::InputError(fmt::format("unknown suite '{}' ({}; or give --fixtures DIR)", name,
                                        fmt::join(known, ", ")));
  }
  s.committed = name == kCommittedSuite;
  s.fixtures = s.committed ? root / "fixtures" / "golden" / s.name
                           : root / ".cache" / "fixtures" / s.name;
  return s;
}

std::filesystem::path suite_fixture_dir(std::string_view name, const std::filesystem::path& root) {
  const SuiteLocation s = locate_suite(name, root);
  if (std::filesystem::is_directory(s.fixtures)) return s.fixtures;
  if (s.committed)
    throw model::InputError(
        fmt::format("the {} suite's fixtures are missing: {} (they are committed; "
                    "regenerate with `build/normcheck generate --suite {} --out {}`)",
                    s.name, s.fixtures.string(), s.name, s.fixtures.string()));
  throw model::InputError(
      fmt::format("the {} suite is generated, not committed, and {} does not exist; "
                  "generate it first: build/normcheck generate --suite {} --out {}",
                  s.name, s.fixtures.string(), s.name, s.fixtures.string()));
}

std::filesystem::path default_tolerance_file(const std::filesystem::path& root) {
  return root / "reports" / "tolerances" / "default.toml";
}

RunTolerances run_tolerances(const std::string& file) {
  RunTolerances t;
  if (!file.empty()) {
    t.tolerances = compare::Tolerances::load(file);
    t.source = file;
  } else if (const auto fallback = default_tolerance_file(); std::filesystem::exists(fallback)) {
    t.tolerances = compare::Tolerances::load(fallback);
    t.source = fallback.string();
  }
  return t;
}

}  // namespace normcheck::runner
