#include "normcheck/runner/locations.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "normcheck/model/problem.hpp"

namespace normcheck::runner {

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

std::filesystem::path suite_fixture_dir(std::string_view suite) {
  const auto root = project_root();
  if (suite == "quick") {
    const auto dir = root / "fixtures" / "golden" / "quick";
    if (!std::filesystem::is_directory(dir))
      throw model::InputError(
          fmt::format("the quick suite's fixtures are missing: {} (they are committed; "
                      "regenerate with `build/normcheck generate --suite quick --out {}`)",
                      dir.string(), dir.string()));
    return dir;
  }
  if (suite == "nightly") {
    const auto dir = root / ".cache" / "fixtures" / "nightly";
    if (!std::filesystem::is_directory(dir))
      throw model::InputError(
          fmt::format("the nightly suite is generated, not committed, and {} does not exist; "
                      "generate it first (takes a while): build/normcheck generate --suite "
                      "nightly --out {}",
                      dir.string(), dir.string()));
    return dir;
  }
  throw model::InputError(fmt::format(
      "suite '{}' has no fixture folder of its own (only quick and nightly do); normcheck run "
      "--suite {} generates its fixtures into a cache",
      suite, suite));
}

std::filesystem::path default_tolerance_file() {
  return project_root() / "reports" / "tolerances" / "default.toml";
}

}  // namespace normcheck::runner
