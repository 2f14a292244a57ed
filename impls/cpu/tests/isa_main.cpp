// Catch2 runner for cpu_isa_tests: reports the whole program skipped (exit
// NC_SKIP_CODE, CTest's SKIP_RETURN_CODE) on a CPU that runs only the
// portable build, where there is nothing to compare. Listing tests works
// on any machine.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "isa_builds.hpp"

int main(int argc, char** argv) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const auto& config = session.configData();
  const bool listing = config.listTests || config.listTestNamesOnly || config.listTags ||
                       config.listReporters || config.showHelp;
  if (!listing) {
    const auto builds = normcheck::cpu::testing::isa_builds();
    std::printf("%s\n", builds.summary.c_str());
    if (builds.compared.empty()) return NC_SKIP_CODE;
  }
  return session.run();
}
