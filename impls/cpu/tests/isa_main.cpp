// Catch2 runner for cpu_isa_tests: reports the whole program skipped (exit
// NC_SKIP_CODE, CTest's SKIP_RETURN_CODE) on a CPU that runs only the
// portable build, where there is nothing to compare.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <optional>
#include <string>

#include "isa_builds.hpp"
#include "normcheck/testing/skipping_main.hpp"

int main(int argc, char** argv) {
  return normcheck::testing::run_or_skip(
      argc, argv, NC_SKIP_CODE, []() -> std::optional<std::string> {
        const auto builds = normcheck::cpu::testing::isa_builds();
        if (builds.compared.empty()) return builds.summary;
        std::printf("%s\n", builds.summary.c_str());
        return std::nullopt;
      });
}
