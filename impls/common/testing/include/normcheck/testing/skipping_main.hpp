// The main of a Catch2 test program that cannot run on every machine (the
// CUDA device tests, the cpu ISA comparisons): the whole program reports
// itself skipped, with the reason printed, by exiting with `skip_code`
// (CTest's SKIP_RETURN_CODE) when `skip_reason` names one. Listing tests
// (how CTest discovers them) works on any machine. An exception from
// `skip_reason` is a failure (exit 1), not a skip. Include after defining
// CATCH_CONFIG_RUNNER and including catch.hpp.
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <string>

namespace normcheck::testing {

inline int run_or_skip(int argc, char** argv, int skip_code,
                       const std::function<std::optional<std::string>()>& skip_reason) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const auto& config = session.configData();
  const bool listing = config.listTests || config.listTestNamesOnly || config.listTags ||
                       config.listReporters || config.showHelp;
  if (!listing) {
    try {
      if (const auto reason = skip_reason()) {
        std::printf("skipped: %s\n", reason->c_str());
        return skip_code;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    }
  }
  return session.run();
}

}  // namespace normcheck::testing
