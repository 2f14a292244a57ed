// libFuzzer target: the descriptor parser (harness/model). Rules checked:
// bad text is an InputError and nothing else; a descriptor that parses
// prints a normalized form that parses back to the same problem and prints
// the same again (problem.hpp).
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "normcheck/backend/problem_abi.hpp"
#include "normcheck/model/problem.hpp"
#include "rule.hpp"

using namespace normcheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  model::Problem p;
  try {
    p = model::parse_descriptor(text);
  } catch (const model::InputError&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz::rule_broken("descriptor_fuzz", std::string("not an InputError: ") + e.what());
  }
  const std::string normalized = model::to_descriptor(p);
  model::Problem again;
  try {
    again = model::parse_descriptor(normalized);
  } catch (const std::exception& e) {
    fuzz::rule_broken("descriptor_fuzz",
                      "normalized form '" + normalized + "' does not parse: " + e.what());
  }
  if (!(again == p))
    fuzz::rule_broken("descriptor_fuzz", "'" + normalized + "' parses to another problem");
  if (model::to_descriptor(again) != normalized)
    fuzz::rule_broken("descriptor_fuzz", "'" + normalized + "' does not print back the same");
  (void)model::describe(p);
  (void)backend::to_abi(p);
  return 0;
}
