// Where the committed data of the source tree lives: golden suites and the
// default tolerance file. The tree is $NORMCHECK_ROOT when set (a relocated
// checkout), else <prefix>/share/normcheck for an installed CLI (found
// relative to the running binary), else the one normcheck was configured from.
#pragma once

#include <filesystem>
#include <string_view>

namespace normcheck::runner {

std::filesystem::path project_root();

// The fixture folder of a named suite: quick is committed
// (fixtures/golden/quick); nightly is generated into .cache/fixtures/nightly.
// InputError for an unknown name, or a suite whose folder is missing (with
// the command that generates it).
std::filesystem::path suite_fixture_dir(std::string_view suite);

// reports/tolerances/default.toml of the tree.
std::filesystem::path default_tolerance_file();

}  // namespace normcheck::runner
