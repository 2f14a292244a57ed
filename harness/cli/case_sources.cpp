#include "case_sources.hpp"

#include <fmt/core.h>

#include <cstdlib>

#include "normcheck/fixture/fixture_index.hpp"
#include "normcheck/fixture/fixture_reader.hpp"
#include "normcheck/fixture/fixture_writer.hpp"
#include "normcheck/fixture/generator.hpp"
#include "normcheck/fixture/job_pool.hpp"
#include "normcheck/fixture/schema.hpp"
#include "normcheck/model/problem.hpp"
#include "normcheck/runner/case_source.hpp"

namespace normcheck::cli {

namespace fx = normcheck::fixture;

std::vector<fx::Case> golden_cases(const std::vector<std::string>& descriptors,
                                   std::uint64_t max_case_bytes) {
  std::vector<fx::Case> cases;
  for (const auto& d : descriptors) {
    model::Problem p;
    try {
      p = model::parse_descriptor(d);
    } catch (const model::InputError& e) {
      throw model::InputError(fmt::format("--descriptor '{}': {}", d, e.what()));
    }
    fx::check_case_size(p, max_case_bytes);
    cases.push_back(fx::generate_case(p));
  }
  return cases;
}

void save_cases(const std::vector<fx::Case>& cases, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw model::InputError(fmt::format("--save {}: {}", dir.string(), ec.message()));
  std::vector<fx::IndexEntry> index = fx::read_fixture_index(dir);
  for (const auto& c : cases) {
    const std::string d = c.descriptor();
    const std::string file = fx::case_group_name(d) + ".h5";
    fx::write_fixture_file(dir / file, {c});
    std::erase_if(index, [&](const fx::IndexEntry& e) { return e.file == file; });
    index.push_back({file, 0, d});
  }
  fx::write_fixture_index(dir, index);
}

std::optional<fx::Case> existing_case(const std::filesystem::path& file,
                                      const std::string& descriptor, std::uint64_t max_case_bytes) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  try {
    fx::FixtureReader reader(file, max_case_bytes);
    if (reader.size() != 1 || reader.descriptors()[0] != descriptor) return std::nullopt;
    return reader.read(0);
  } catch (const model::InputError&) {
    return std::nullopt;  // damaged or foreign: generated again
  }
}

std::filesystem::path suite_cache_dir(const fx::Suite& suite) {
  std::filesystem::path root;
  if (const char* e = std::getenv("NORMCHECK_CACHE_DIR"); e != nullptr && *e != '\0')
    root = e;
  else if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0')
    root = std::filesystem::path(x) / "normcheck";
  else if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    root = std::filesystem::path(h) / ".cache" / "normcheck";
  else
    throw model::InputError(
        "no cache folder for the suite's fixtures: set NORMCHECK_CACHE_DIR, or generate them "
        "with normcheck generate and run with --fixtures");
  std::string all;
  for (const auto& p : suite.problems) all += model::to_descriptor(p) + "\n";
  return root / "fixtures" /
         fmt::format("{}-{:016x}", suite.name.empty() ? "suite" : suite.name, runner::fnv1a64(all));
}

std::filesystem::path cached_suite_fixtures(const fx::Suite& suite, unsigned jobs,
                                            std::uint64_t max_case_bytes) {
  const auto dir = suite_cache_dir(suite);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw model::InputError(fmt::format("cache folder {}: {}", dir.string(), ec.message()));
  std::vector<std::size_t> missing;
  std::vector<fx::IndexEntry> index;
  for (std::size_t i = 0; i < suite.problems.size(); ++i) {
    const std::string d = model::to_descriptor(suite.problems[i]);
    const std::string file = fx::case_group_name(d) + ".h5";
    fx::check_case_size(suite.problems[i], max_case_bytes);
    index.push_back({file, 0, d});
    // A file present from an earlier run is trusted when it reads back as
    // that case; anything else is generated again.
    if (!existing_case(dir / file, d, max_case_bytes)) missing.push_back(i);
  }
  if (!missing.empty()) {
    fmt::print(stderr, "normcheck: generating {} of the {} cases of suite '{}' into {}\n",
               missing.size(), suite.problems.size(), suite.name, dir.string());
    std::vector<std::string> failures;
    fx::run_jobs(
        missing.size(), std::max(1u, jobs),
        [&](std::size_t k) -> std::string {
          const auto& p = suite.problems[missing[k]];
          try {
            fx::write_fixture_file(dir / (fx::case_group_name(model::to_descriptor(p)) + ".h5"),
                                   {fx::generate_case(p)});
            return "ok";
          } catch (const model::InputError& e) {
            return std::string("failed\t") + e.what();
          }
        },
        [&](std::size_t k, const std::string& line) {
          if (line != "ok")
            failures.push_back(
                fmt::format("{}: {}", model::to_descriptor(suite.problems[missing[k]]), line));
        });
    if (!failures.empty())
      throw model::InputError(
          fmt::format("suite '{}': {} case(s) could not be generated; first: {}", suite.name,
                      failures.size(), failures.front()));
  }
  fx::write_fixture_index(dir, index);
  return dir;
}

}  // namespace normcheck::cli
