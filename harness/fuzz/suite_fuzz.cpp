// libFuzzer target: the suite file parser (harness/fixture: brace
// expansion, descriptors per line). load_suite reads a file, so each input
// is written to one first (scratch.hpp). Rules checked:
// bad text is an InputError and nothing else; every problem of a suite
// that loads prints a descriptor that parses back to it.
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>

#include "normcheck/fixture/suite.hpp"
#include "normcheck/model/problem.hpp"
#include "rule.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;
using namespace normcheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::ScratchFile scratch("suite_fuzz", "fuzzed.txt");
  const fs::path& file = scratch.write(data, size);
  fixture::Suite suite;
  try {
    suite = fixture::load_suite(file);
  } catch (const model::InputError&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz::rule_broken("suite_fuzz", std::string("not an InputError: ") + e.what());
  }
  for (const auto& p : suite.problems) {
    const std::string d = model::to_descriptor(p);
    try {
      if (!(model::parse_descriptor(d) == p))
        fuzz::rule_broken("suite_fuzz", "'" + d + "' parses to another problem");
    } catch (const model::InputError& e) {
      fuzz::rule_broken("suite_fuzz", "'" + d + "' does not parse: " + e.what());
    }
  }
  return 0;
}
