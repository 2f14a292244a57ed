// normcheck verify-fixtures: reads every case of every fixture file under a
// directory (or one file), which verifies schema, shapes, dtypes and every
// dataset's SHA-256; optionally regenerates each reference case and compares
// bit for bit, checks digests against a manifest and completeness against a
// suite. Exit 0 all good, 1 a mismatch, 2 bad input (a damaged file).
#include <fmt/core.h>

#include <filesystem>
#include <set>

#include "command.hpp"
#include "max_case_bytes.hpp"
#include "normcheck/fixture/fixture_reader.hpp"
#include "normcheck/fixture/generator.hpp"
#include "normcheck/fixture/job_pool.hpp"
#include "normcheck/fixture/progress.hpp"
#include "normcheck/fixture/schema.hpp"
#include "normcheck/fixture/suite.hpp"

namespace normcheck::cli {

namespace {

namespace fx = normcheck::fixture;

struct VerifyOptions {
  std::string path;
  bool regenerate = false;
  std::string suite;
  std::string suites_dir;
  std::string manifest;
  unsigned jobs = 0;
  std::uint64_t max_case_bytes = fx::kDefaultMaxCaseBytes;
};

struct FileCheck {
  int cases = 0, regenerated = 0;
  std::string mismatch;  // first mismatch, empty when none
};

// Runs in a worker. Reading a case verifies it; InputError escapes as "bad".
FileCheck check_file(const std::filesystem::path& file, bool regenerate,
                     const fx::Manifest& manifest, std::uint64_t max_case_bytes) {
  FileCheck check;
  const fx::FixtureReader reader(file, max_case_bytes);
  for (std::size_t i = 0; i < reader.size(); ++i) {
    const fx::Case stored = reader.read(i);
    ++check.cases;
    const std::string& descriptor = reader.descriptors()[i];
    if (!manifest.empty() && check.mismatch.empty()) {
      const auto it = manifest.find(descriptor);
      const std::string digest = fx::content_digest(stored);
      if (it == manifest.end())
        check.mismatch = fmt::format("case '{}' is not in the manifest", descriptor);
      else if (it->second != digest)
        check.mismatch = fmt::format("case '{}': digest {} differs from the manifest's {}",
                                     descriptor, digest.substr(0, 16), it->second.substr(0, 16));
    }
    if (!regenerate || stored.provenance.source != "reference") continue;
    const fx::Case fresh = fx::generate_case(stored.problem);
    ++check.regenerated;
    if (const auto d = fx::first_difference(stored, fresh); !d.empty() && check.mismatch.empty())
      check.mismatch = fmt::format("case '{}' regenerates differently: {}", descriptor, d);
  }
  return check;
}

std::string check_file_report(const std::filesystem::path& file, bool regenerate,
                              const fx::Manifest& manifest, std::uint64_t max_case_bytes) {
  try {
    const FileCheck c = check_file(file, regenerate, manifest, max_case_bytes);
    return fmt::format("{}\t{}\t{}\t{}", c.mismatch.empty() ? "ok" : "mismatch", c.cases,
                       c.regenerated, c.mismatch);
  } catch (const model::InputError& e) {
    return fmt::format("bad\t0\t0\t{}", e.what());
  }
}

int run_verify(const VerifyOptions& opt) {
  const std::filesystem::path root(opt.path);
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_regular_file(root, ec))
    files = {root};
  else
    files = fx::fixture_files(root);
  if (files.empty())
    throw model::InputError(fmt::format("'{}' holds no fixture files (*.h5)", opt.path));
  const fx::Manifest manifest =
      opt.manifest.empty() ? fx::Manifest{} : fx::read_manifest(opt.manifest);
  std::optional<fx::Suite> suite;
  if (!opt.suite.empty()) {
    const std::filesystem::path dir =
        opt.suites_dir.empty() ? fx::default_suites_dir() : std::filesystem::path(opt.suites_dir);
    suite = fx::load_suite(fx::resolve_suite(opt.suite, dir));
  }

  const unsigned jobs = opt.jobs > 0 ? opt.jobs : fx::available_cores();
  fmt::print("verify-fixtures: {} file{} under {}{}\n", files.size(), files.size() == 1 ? "" : "s",
             opt.path, opt.regenerate ? ", regenerating every reference case" : "");
  fx::Progress progress(files.size(), fx::stdout_is_terminal());
  int cases = 0, regenerated = 0, bad = 0, mismatched = 0;
  std::vector<std::string> messages;
  fx::run_jobs(
      files.size(), jobs,
      [&](std::size_t i) {
        return check_file_report(files[i], opt.regenerate, manifest, opt.max_case_bytes);
      },
      [&](std::size_t i, const std::string& line) {
        std::vector<std::string> f;
        std::size_t start = 0;
        for (int k = 0; k < 3; ++k) {
          const auto tab = line.find('\t', start);
          f.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
          start = tab == std::string::npos ? line.size() : tab + 1;
        }
        const std::string status = f[0], message = line.substr(start);
        if (status == "ok" || status == "mismatch") {
          cases += std::stoi(f[1]);
          regenerated += std::stoi(f[2]);
        }
        const bool fine = status == "ok";
        if (status == "mismatch") ++mismatched;
        if (!fine && status != "mismatch") ++bad;  // "bad", or a worker error
        if (!fine)
          messages.push_back(status == "error" ? fmt::format("{}: {}", files[i].string(), f[1])
                                               : message);
        // Details follow on stderr once, after the run.
        progress.step(fmt::format("{} {}",
                                  fine                   ? "ok"
                                  : status == "mismatch" ? "MISMATCH"
                                                         : "DAMAGED",
                                  files[i].string()),
                      !fine);
      });
  progress.finish();

  int missing = 0;
  if (suite) {
    std::set<std::string> present;
    for (const auto& file : files) {
      try {
        const fx::FixtureReader reader(file);
        present.insert(reader.descriptors().begin(), reader.descriptors().end());
      } catch (const model::InputError&) {
        // already reported above
      }
    }
    for (const auto& p : suite->problems) {
      const std::string d = model::to_descriptor(p);
      if (!present.contains(d)) {
        ++missing;
        messages.push_back(fmt::format("suite '{}' case '{}' has no fixture", suite->name, d));
      }
    }
  }
  for (const auto& m : messages) fmt::print(stderr, "verify-fixtures: {}\n", m);
  fmt::print(
      "verify-fixtures: {} cases in {} files: {} damaged, {} mismatched{}{}; {}\n", cases,
      files.size(), bad, mismatched,
      opt.regenerate ? fmt::format(", {} regenerated", regenerated) : "",
      suite ? fmt::format(", {} of {} suite cases missing", missing, suite->problems.size()) : "",
      bad                       ? "BAD INPUT"
      : (mismatched || missing) ? "MISMATCH"
                                : "OK");
  if (bad) return 2;
  return (mismatched || missing) ? 1 : 0;
}

}  // namespace

void add_verify_fixtures_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<VerifyOptions>();
  auto* cmd = app.add_subcommand(
      "verify-fixtures",
      "Verify fixture files (schema, shapes, checksums); optionally regenerate bit for bit");
  cmd->add_option("path", opt->path, "a fixture directory (searched recursively) or one .h5 file")
      ->required();
  cmd->add_flag("--regenerate", opt->regenerate,
                "regenerate every reference case and compare bit for bit");
  cmd->add_option("--suite", opt->suite,
                  "also require every case of this suite (name or file) to be present");
  cmd->add_option("--suites-dir", opt->suites_dir, "where suite names are looked up");
  cmd->add_option("--manifest", opt->manifest,
                  "compare every case's content digest with this manifest");
  cmd->add_option("--jobs,-j", opt->jobs, "worker processes (default: the available cores)");
  const MaxCaseBytes max_case_bytes(cmd);
  cmd->callback([opt, max_case_bytes, &exit_code] {
    opt->max_case_bytes = max_case_bytes.resolve();
    exit_code = run_verify(*opt);
  });
}

}  // namespace normcheck::cli
