// libFuzzer target: the results.json reader (harness/report), which
// `compare`, `merge` and the report writers load. Rules checked: bad text
// is an InputError and nothing else; results that load write a
// results.json that loads and writes the same again.
#include <cstdint>
#include <exception>
#include <string>

#include "normcheck/model/problem.hpp"
#include "normcheck/report/results_json.hpp"
#include "rule.hpp"

using namespace normcheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  report::Results r;
  try {
    r = report::results_from_json(text, "fuzzed.json");
  } catch (const model::InputError&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz::rule_broken("results_json_fuzz", std::string("not an InputError: ") + e.what());
  }
  const std::string written = report::results_to_json(r);
  try {
    const auto again = report::results_from_json(written, "written.json");
    if (report::results_to_json(again) != written)
      fuzz::rule_broken("results_json_fuzz", "written results do not write back the same");
  } catch (const model::InputError& e) {
    fuzz::rule_broken("results_json_fuzz", std::string("written results do not load: ") + e.what());
  }
  return 0;
}
