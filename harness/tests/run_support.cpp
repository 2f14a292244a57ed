#include "run_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/fixture/generator.hpp"
#include "normcheck/runner/run.hpp"

namespace normcheck::testing {

fixture::Case generated(const std::string& descriptor) {
  return fixture::generate_case(model::parse_descriptor(descriptor));
}

std::string test_backend(const std::string& kind) {
  return std::string(NORMCHECK_TEST_BACKEND_DIR) + "/libnc_test_" + kind + ".so";
}

std::vector<report::Record> run_on(const std::string& backend,
                                   const std::vector<fixture::Case>& cases,
                                   const compare::Tolerances& tolerances, double timeout_seconds) {
  std::string path = backend;
  if (backend.find('/') == std::string::npos)
    path =
        builtin_backend_available(backend) ? builtin_backend_path(backend) : test_backend(backend);
  const auto loaded = backend::LoadedBackend::load(path);
  const runner::MemoryCases source(cases);
  std::vector<std::size_t> all(cases.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  runner::RunOptions options;
  options.jobs = 2;
  options.timeout_seconds = timeout_seconds;
  options.catch_interrupts = false;
  return runner::run_cases(source, all, {&loaded}, tolerances, options).records;
}

report::Record record(const std::vector<report::Record>& records, const std::string& check) {
  for (const auto& r : records)
    if (r.check == check) return r;
  FAIL("no record for check '" << check << "'");
  throw std::logic_error("unreachable");
}

std::string builtin_backend_path(const std::string& name) {
  return std::string(NORMCHECK_BUILTIN_BACKEND_DIR) + "/libnormcheck_backend_" + name + ".so";
}

bool builtin_backend_available(const std::string& name) {
  return std::filesystem::exists(builtin_backend_path(name));
}

}  // namespace normcheck::testing
