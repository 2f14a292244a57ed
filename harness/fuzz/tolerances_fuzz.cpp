// libFuzzer target: the tolerance file parser (harness/compare). Rules
// checked: bad text is an InputError and nothing else; a file that parses
// prints (to_toml) a file that parses and prints the same again; lookups on
// a parsed file do not fail.
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "normcheck/compare/tolerances.hpp"
#include "normcheck/model/problem.hpp"
#include "rule.hpp"

using namespace normcheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  compare::Tolerances t;
  try {
    t = compare::Tolerances::parse(text, "fuzzed.toml");
  } catch (const model::InputError&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz::rule_broken("tolerances_fuzz", std::string("not an InputError: ") + e.what());
  }
  const std::string printed = t.to_toml("");
  try {
    const auto again = compare::Tolerances::parse(printed, "printed.toml");
    if (again.to_toml("") != printed)
      fuzz::rule_broken("tolerances_fuzz", "printed file does not print back the same:\n" + printed);
  } catch (const model::InputError& e) {
    fuzz::rule_broken("tolerances_fuzz",
                      std::string("printed file does not parse: ") + e.what() + "\n" + printed);
  }
  (void)t.limit("cpu", "layer_norm", "y", "f32");
  (void)t.requirements("cpu");
  (void)t.expected_failure("cpu", "ln:f32:f32:4x8:eps=1e-05:dist=normal", "y");
  return 0;
}
