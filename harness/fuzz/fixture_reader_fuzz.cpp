// libFuzzer target: one fixture file read the way `normcheck run` reads a
// folder of fixtures (run_command.cpp): FixtureDirectory lists the
// unindexed file in its isolated lister, run_cases reads each listed case in
// an isolated worker, and every case ends as a record. The backend is the
// test plugin that supports nothing, so no kernel runs: what is fuzzed is the
// reader and the harness around it.
//
// HDF5 crashing or hanging inside the lister or a worker is handled (it
// becomes a damaged file or a `damaged` record naming the file); what this
// target reports is the harness itself misbehaving: a crash or sanitizer
// report in this process, a hang (libFuzzer -timeout), or a run whose
// records break the rules checked below (abort with a message).
#include <sanitizer/common_interface_defs.h>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/compare/tolerances.hpp"
#include "normcheck/runner/case_source.hpp"
#include "normcheck/runner/run.hpp"
#include "rule.hpp"
#include "scratch.hpp"

namespace {

namespace fs = std::filesystem;
using namespace normcheck;

// Long enough for a 64 KiB fixture under ASan on a loaded machine, short
// enough that HDF5's endless loops do not dominate a long run.
constexpr double kReadTimeoutSeconds = 2.0;

[[noreturn]] void harness_broke(const std::string& what) {
  fuzz::rule_broken("fixture_reader_fuzz", what);
}

// In the lister and the workers (forked from this process): die the way a
// release build's child would, instead of through libFuzzer's handlers,
// which would write a crash file for a crash the harness handles.
void child_after_fork() {
  __sanitizer_set_death_callback(nullptr);
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGALRM, SIGXFSZ, SIGUSR1, SIGUSR2})
    signal(sig, SIG_DFL);
}

struct Setup {
  fuzz::ScratchFile scratch{"fixture_reader_fuzz", "fuzzed.h5"};
  backend::LoadedBackend plugin = backend::LoadedBackend::load(NORMCHECK_FUZZ_UNSUPPORTED_BACKEND);
  compare::Tolerances tolerances = compare::Tolerances::builtin();

  Setup() { pthread_atfork(nullptr, nullptr, child_after_fork); }
};

Setup& setup() {
  static Setup s;
  return s;
}

void check_message_names_file(const std::string& message, const fs::path& file,
                              const std::string& what) {
  if (message.find(file.filename().string()) == std::string::npos)
    harness_broke(what + " without naming the file: '" + message + "'");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Setup& s = setup();
  const fs::path& file = s.scratch.write(data, size);
  // As run_command.cpp: list, select everything, run, add damaged files.
  std::optional<runner::FixtureDirectory> cases;
  try {
    cases.emplace(s.scratch.dir(), kReadTimeoutSeconds);
  } catch (const model::InputError& e) {
    // A folder whose index is malformed: there is no index here.
    harness_broke(std::string("listing a folder without index.tsv threw: ") + e.what());
  }
  // A file the lister could not list: the CLI's record is its path and
  // this message (run_command.cpp).
  for (const auto& d : cases->damaged())
    if (d.path != file || d.message.empty())
      harness_broke("a damaged file '" + d.path.string() + "' with message '" + d.message + "'");
  if (!cases->damaged().empty() && cases->size() != 0)
    harness_broke("a damaged file also listed cases");
  // Each case is a task: a file listing thousands of them is legal but
  // makes this execution slow, not more interesting.
  if (cases->size() > 64) return 0;
  const auto selected = runner::select_cases(*cases, {});
  runner::RunOptions options;
  options.jobs = 1;
  options.timeout_seconds = kReadTimeoutSeconds;
  options.catch_interrupts = false;
  const runner::RunOutcome outcome =
      runner::run_cases(*cases, selected, {&s.plugin}, s.tolerances, options);

  if (outcome.cases_done != selected.size()) harness_broke("a case was lost");
  std::size_t damaged = 0;
  for (const auto& r : outcome.records) {
    switch (r.status) {
      case compare::Status::unsupported:  // read, then declined by the plugin
        break;
      case compare::Status::damaged:
        ++damaged;
        check_message_names_file(r.message, file, "a damaged record");
        break;
      default:
        // Nothing ran, so any other status blames the plugin for what the
        // harness did with the case it read.
        harness_broke("status " + std::string(compare::status_name(r.status)) + " for " +
                      r.case_id + " (" + r.check + "): " + r.message);
    }
  }
  if (damaged != outcome.damaged_cases) harness_broke("damaged records and damaged cases differ");
  if (selected.size() > 0 && outcome.records.empty()) harness_broke("cases ran without a record");
  return 0;
}
