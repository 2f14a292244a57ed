// libFuzzer target: the fixture reader (FixtureReader: HDF5 plus the
// schema and SHA-256 checks) called in this process, without the isolation
// `normcheck run` gives it. It explores the reader ~10x faster than
// fixture_reader_fuzz, whose every execution forks an isolated lister and
// worker under ASan. A crash or hang here is HDF5 (or the reader) failing
// on a damaged file: scripts/fuzz restarts it after each one until its
// time is up, and `scripts/fuzz replay` runs each saved input through
// fixture_reader_fuzz, where it must end as a damaged file or record,
// never as a harness crash. Rule checked here:
// a bad file is an InputError and nothing else.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>

#include "normcheck/fixture/fixture_reader.hpp"
#include "normcheck/model/problem.hpp"
#include "rule.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;
using namespace normcheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::ScratchFile scratch("fixture_reader_inprocess_fuzz", "fuzzed.h5");
  const fs::path& file = scratch.write(data, size);
  try {
    const fixture::FixtureReader reader(file);
    for (std::size_t i = 0; i < std::min<std::size_t>(reader.size(), 64); ++i) (void)reader.read(i);
  } catch (const model::InputError&) {
  } catch (const std::exception& e) {
    fuzz::rule_broken("fixture_reader_inprocess_fuzz", std::string("not an InputError: ") + e.what());
  }
  return 0;
}
