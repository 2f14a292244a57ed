// Catch2 runner that reports the whole program skipped (exit NC_SKIP_CODE,
// CTest's SKIP_RETURN_CODE) when the cuda plugin cannot run here: no CUDA
// device, or one too old. Listing tests (how CTest discovers them) works
// on any machine. A plugin that does not load is a failure, not a skip.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <exception>

#include "plugin.hpp"

int main(int argc, char** argv) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const auto& config = session.configData();
  const bool listing = config.listTests || config.listTestNamesOnly || config.listTags ||
                       config.listReporters || config.showHelp;
  if (!listing) {
    try {
      const normcheck::cuda::testing::Plugin plugin;
      if (const auto reason = normcheck::cuda::testing::unavailable_reason(plugin)) {
        std::printf("skipped: %s\n", reason->c_str());
        return NC_SKIP_CODE;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "the cuda plugin does not load: %s\n", e.what());
      return 1;
    }
  }
  return session.run();
}
