#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "normcheck/model/problem.hpp"
#include "normcheck/runner/locations.hpp"

using Catch::Matchers::Contains;
using namespace normcheck;
namespace fs = std::filesystem;

namespace {

// A relocated tree: fixtures/suites/{quick,mine}.txt, quick's folder, a tolerance file.
struct Tree {
  fs::path root = fs::temp_directory_path() / ("nc-locations-" + std::to_string(::getpid()));
  Tree() {
    fs::create_directories(root / "fixtures" / "suites");
    fs::create_directories(root / "fixtures" / "golden" / "quick");
    fs::create_directories(root / "reports" / "tolerances");
    for (const char* s : {"quick", "mine"})
      std::ofstream(root / "fixtures" / "suites" / (std::string(s) + ".txt")) << "ln:f32:4\n";
    std::ofstream(root / "reports" / "tolerances" / "default.toml")
        << "schema_version = 1\n[default]\nmax_bound_ratio = 3.0\n";
  }
  ~Tree() { fs::remove_all(root); }
};

// Sets NORMCHECK_ROOT for one test, restoring what was there.
struct RootOverride {
  std::string old;
  bool had = false;
  explicit RootOverride(const fs::path& root) {
    if (const char* v = std::getenv("NORMCHECK_ROOT")) old = v, had = true;
    ::setenv("NORMCHECK_ROOT", root.c_str(), 1);
  }
  ~RootOverride() {
    had ? void(::setenv("NORMCHECK_ROOT", old.c_str(), 1)) : void(::unsetenv("NORMCHECK_ROOT"));
  }
};

}  // namespace

TEST_CASE("every command resolves a suite in the tree NORMCHECK_ROOT names") {
  const Tree tree;
  const RootOverride env(tree.root);
  CHECK(runner::project_root() == tree.root);
  CHECK(runner::suites_dir() == tree.root / "fixtures" / "suites");
  const auto quick = runner::locate_suite("quick");
  CHECK(quick.committed);
  CHECK(quick.definition == tree.root / "fixtures" / "suites" / "quick.txt");
  CHECK(runner::suite_fixture_dir("quick") == tree.root / "fixtures" / "golden" / "quick");
  const auto mine = runner::locate_suite("mine");
  CHECK_FALSE(mine.committed);
  CHECK(mine.fixtures == tree.root / ".cache" / "fixtures" / "mine");
  SECTION("a generated suite not yet generated names the command that makes it") {
    CHECK_THROWS_WITH(
        runner::suite_fixture_dir("mine"),
        Contains("generated, not committed") && Contains("generate --suite mine --out"));
  }
  SECTION("an unknown suite lists the suites there are") {
    CHECK_THROWS_AS(runner::locate_suite("nosuch"), model::InputError);
    CHECK_THROWS_WITH(runner::locate_suite("nosuch"),
                      Contains("unknown suite 'nosuch' (mine, quick;"));
    CHECK_THROWS_WITH(runner::locate_suite("../quick"), Contains("unknown suite"));
  }
  SECTION("the tolerance file of a run: the given one, else the tree's default") {
    const auto fallback = runner::run_tolerances("");
    CHECK(fallback.source == (tree.root / "reports" / "tolerances" / "default.toml").string());
    CHECK(fallback.tolerances.default_limit.max_bound_ratio == 3.0);
    const fs::path given = tree.root / "given.toml";
    std::ofstream(given) << "schema_version = 1\n[default]\nmax_bound_ratio = 5.0\n";
    const auto explicit_file = runner::run_tolerances(given.string());
    CHECK(explicit_file.source == given.string());
    CHECK(explicit_file.tolerances.default_limit.max_bound_ratio == 5.0);
    fs::remove(tree.root / "reports" / "tolerances" / "default.toml");
    CHECK_THAT(runner::run_tolerances("").source, Contains("built-in"));
  }
}

TEST_CASE("the source tree's committed suites resolve") {
  const fs::path root = runner::project_root();
  for (const char* s : {"quick", "nightly", "syncbn"})
    CHECK(fs::is_regular_file(runner::locate_suite(s, root).definition));
}
