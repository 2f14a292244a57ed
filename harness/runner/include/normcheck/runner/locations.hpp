// The one place every command resolves where committed and generated data
// live: a suite name to its definition file and fixture folder, and the
// tolerance file of a run. The tree is $NORMCHECK_ROOT when set (a relocated
// checkout), else <prefix>/share/normcheck for an installed CLI (found
// relative to the running binary), else the one normcheck was configured from.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "normcheck/compare/tolerances.hpp"

namespace normcheck::runner {

std::filesystem::path project_root();

// fixtures/suites of the tree: one NAME.txt per named suite.
std::filesystem::path suites_dir(const std::filesystem::path& root = project_root());

// Where a named suite lives. quick's fixtures are committed
// (fixtures/golden/quick); every other suite is generated into
// .cache/fixtures/NAME.
struct SuiteLocation {
  std::string name;
  std::filesystem::path definition;  // the suite file
  std::filesystem::path fixtures;    // its fixture folder
  bool committed = false;
};
// InputError for a name without a suite file, listing the suites there are.
SuiteLocation locate_suite(std::string_view name,
                           const std::filesystem::path& root = project_root());

// The fixture folder of a named suite; InputError when it is missing, with
// the command that generates it.
std::filesystem::path suite_fixture_dir(std::string_view name,
                                        const std::filesystem::path& root = project_root());

// reports/tolerances/default.toml of the tree.
std::filesystem::path default_tolerance_file(const std::filesystem::path& root = project_root());

// The tolerances of a run: `file` when given, else the tree's default file
// when it exists, else the built-in ones; `source` says which, for reports.
struct RunTolerances {
  compare::Tolerances tolerances = compare::Tolerances::builtin();
  std::string source = "built-in (every check at bound ratio 1)";
};
RunTolerances run_tolerances(const std::string& file);

}  // namespace normcheck::runner
