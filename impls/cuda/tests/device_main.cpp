// Catch2 runner that reports the whole program skipped (exit NC_SKIP_CODE,
// CTest's SKIP_RETURN_CODE) when the cuda plugin cannot run here: no CUDA
// device, or one too old. A plugin that does not load is a failure, not a
// skip.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <stdexcept>

#include "normcheck/testing/skipping_main.hpp"
#include "plugin.hpp"

int main(int argc, char** argv) {
  return normcheck::testing::run_or_skip(argc, argv, NC_SKIP_CODE, [] {
    try {
      const normcheck::cuda::testing::Plugin plugin;
      return normcheck::cuda::testing::unavailable_reason(plugin);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("the cuda plugin does not load: ") + e.what());
    }
  });
}
