// What a fuzz target does when the code under test breaks one of its
// documented rules without crashing: say which, and abort, so libFuzzer
// records the input as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace normcheck::fuzz {

[[noreturn]] inline void rule_broken(const char* target, const std::string& what) {
  std::fprintf(stderr, "%s: rule broken: %s\n", target, what.c_str());
  std::abort();
}

}  // namespace normcheck::fuzz
