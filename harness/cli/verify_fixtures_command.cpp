// normcheck verify-fixtures: reads every case of every fixture file under a
// directory (or one file), which verifies schema, shapes, dtypes and every
// dataset's SHA-256; optionally regenerates each reference case and compares
// bit for bit, checks digests against a manifest and completeness against a
// suite. Every file is read in its own child process with a time limit.
// Exit 0 all good; 1 a mismatch, a missing suite case, or a case --regenerate
// could not regenerate (not verified); 2 bad input (a damaged file, one that
// crashed or hung the reader, an empty manifest or one listing no suite case).
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "command.hpp"
#include "normcheck/fixture/fixture_reader.hpp"
#include "normcheck/fixture/generator.hpp"
#include "normcheck/fixture/isolated_jobs.hpp"
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
  double timeout = 600.0;  // seconds per file; a regenerated nightly file takes minutes
};

struct FileCheck {
  int cases = 0, regenerated = 0, not_regenerable = 0;
  std::string mismatch;  // first mismatch, empty when none
  std::vector<std::string> descriptors;
};

// Runs in an isolated child. Reading a case verifies it; InputError escapes
// as "bad".
FileCheck check_file(const std::filesystem::path& file, bool regenerate,
                     const fx::Manifest& manifest) {
  FileCheck check;
  const fx::FixtureReader reader(file);
  check.descriptors = reader.descriptors();
  for (std::size_t i = 0; i < reader.size(); ++i) {
    const fx::Case stored = reader.read(i);
    ++check.cases;
    const std::string& descriptor = reader.descriptors()[i];
    const auto note = [&](std::string what) {
      if (check.mismatch.empty()) check.mismatch = std::move(what);
    };
    if (!manifest.empty()) {
      const auto it = manifest.find(descriptor);
      const std::string digest = fx::content_digest(stored);
      if (it == manifest.end())
        note(fmt::format("case '{}' is not in the manifest", descriptor));
      else if (it->second != digest)
        note(fmt::format("case '{}': digest {} differs from the manifest's {}", descriptor,
                         digest.substr(0, 16), it->second.substr(0, 16)));
      // A manifest lists what the reference generated: a case it lists that
      // claims another source has forged provenance.
      else if (stored.provenance.source != "reference")
        note(fmt::format("case '{}' is in the manifest (reference cases) but claims source '{}'",
                         descriptor, stored.provenance.source));
    }
    if (!regenerate) continue;
    if (stored.provenance.source != "reference") {
      // The reference cannot recompute another source's golden values.
      ++check.not_regenerable;
      continue;
    }
    const fx::Case fresh = fx::generate_case(stored.problem);
    ++check.regenerated;
    if (const auto d = fx::first_difference(stored, fresh); !d.empty())
      note(fmt::format("case '{}' regenerates differently: {}", descriptor, d));
  }
  return check;
}

std::string one_line(std::string text) {
  for (char& ch : text)
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  return text;
}

// The child's answer: "STATUS\tCASES\tREGENERATED\tNOT_REGENERABLE\tMESSAGE",
// then one descriptor per line.
std::string check_file_report(const std::filesystem::path& file, bool regenerate,
                              const fx::Manifest& manifest) {
  try {
    const FileCheck c = check_file(file, regenerate, manifest);
    std::string out = fmt::format("{}\t{}\t{}\t{}\t{}", c.mismatch.empty() ? "ok" : "mismatch",
                                  c.cases, c.regenerated, c.not_regenerable, one_line(c.mismatch));
    for (const auto& d : c.descriptors) out += "\n" + d;
    return out;
  } catch (const model::InputError& e) {
    return fmt::format("bad\t0\t0\t0\t{}", one_line(e.what()));
  }
}

struct FileResult {
  std::string status;  // ok, mismatch, bad, error, crashed, timed_out
  int cases = 0, regenerated = 0, not_regenerable = 0;
  std::string message;
  std::vector<std::string> descriptors;
};

FileResult parse_report(const std::filesystem::path& file, const fx::IsolatedOutcome& outcome) {
  FileResult r;
  using Kind = fx::IsolatedOutcome::Kind;
  if (outcome.kind != Kind::finished) {
    r.status = outcome.kind == Kind::crashed ? "crashed" : "timed_out";
    r.message = fmt::format("{}: reading it {} (damaged file)", file.string(), outcome.text);
    return r;
  }
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= outcome.text.size()) {
    const auto nl = outcome.text.find('\n', start);
    lines.push_back(outcome.text.substr(start, nl == std::string::npos ? nl : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  std::vector<std::string> f;
  start = 0;
  const std::string& head = lines.front();
  for (int k = 0; k < 4; ++k) {
    const auto tab = head.find('\t', start);
    f.push_back(head.substr(start, tab == std::string::npos ? tab : tab - start));
    start = tab == std::string::npos ? head.size() : tab + 1;
  }
  r.status = f[0];
  if (r.status == "error") {  // an exception other than InputError escaped
    r.message = fmt::format("{}: {}", file.string(), head.substr(head.find('\t') + 1));
    return r;
  }
  r.cases = std::stoi(f[1]);
  r.regenerated = std::stoi(f[2]);
  r.not_regenerable = std::stoi(f[3]);
  r.message = head.substr(start);
  r.descriptors.assign(lines.begin() + 1, lines.end());
  return r;
}

int run_verify(const VerifyOptions& opt) {
  if (!(opt.timeout >= 0.0))
    throw model::InputError("--timeout: must be >= 0 seconds (0: no timeout)");
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
  // Failing closed: a manifest that checks nothing must not read as a pass.
  if (!opt.manifest.empty() && manifest.empty())
    throw model::InputError(fmt::format("manifest '{}' lists no case", opt.manifest));
  std::optional<fx::Suite> suite;
  if (!opt.suite.empty()) {
    const std::filesystem::path dir =
        opt.suites_dir.empty() ? fx::default_suites_dir() : std::filesystem::path(opt.suites_dir);
    suite = fx::load_suite(fx::resolve_suite(opt.suite, dir));
    if (!manifest.empty() &&
        std::none_of(suite->problems.begin(), suite->problems.end(),
                     [&](const auto& p) { return manifest.contains(model::to_descriptor(p)); }))
      throw model::InputError(fmt::format("manifest '{}' lists no case of suite '{}'",
                                          opt.manifest, suite->name));
  }

  const unsigned jobs = opt.jobs > 0 ? opt.jobs : fx::available_cores();
  fmt::print("verify-fixtures: {} file{} under {}{}\n", files.size(), files.size() == 1 ? "" : "s",
             opt.path, opt.regenerate ? ", regenerating every reference case" : "");
  fx::Progress progress(files.size(), fx::stdout_is_terminal());
  int cases = 0, regenerated = 0, not_regenerable = 0, bad = 0, mismatched = 0;
  std::set<std::string> present;
  std::vector<std::string> messages;
  // Each file is read in its own child with a time limit: HDF5 crashes or
  // loops on some damaged files, which must cost that file only.
  fx::run_isolated_jobs(
      files.size(), jobs, std::chrono::milliseconds(std::int64_t(opt.timeout * 1000.0)),
      [&](std::size_t i) { return check_file_report(files[i], opt.regenerate, manifest); },
      [&](std::size_t i, const fx::IsolatedOutcome& outcome) {
        const FileResult r = parse_report(files[i], outcome);
        cases += r.cases;
        regenerated += r.regenerated;
        not_regenerable += r.not_regenerable;
        present.insert(r.descriptors.begin(), r.descriptors.end());
        const bool fine = r.status == "ok";
        if (r.status == "mismatch") ++mismatched;
        if (!fine && r.status != "mismatch") ++bad;  // damaged, crashed, hung, worker error
        if (!fine) messages.push_back(r.message);
        // Details follow on stderr once, after the run.
        progress.step(fmt::format("{} {}",
                                  fine                     ? "ok"
                                  : r.status == "mismatch" ? "MISMATCH"
                                                           : "DAMAGED",
                                  files[i].string()),
                      !fine);
      });
  progress.finish();

  int missing = 0;
  if (suite) {
    for (const auto& p : suite->problems) {
      const std::string d = model::to_descriptor(p);
      if (!present.contains(d)) {
        ++missing;
        messages.push_back(fmt::format("suite '{}' case '{}' has no fixture", suite->name, d));
      }
    }
  }
  if (not_regenerable > 0)
    messages.push_back(fmt::format(
        "{} case{} not regenerable (source other than the reference): not verified by "
        "--regenerate",
        not_regenerable, not_regenerable == 1 ? " is" : "s are"));
  for (const auto& m : messages) fmt::print(stderr, "verify-fixtures: {}\n", m);
  const bool incomplete = mismatched || missing || not_regenerable;
  fmt::print(
      "verify-fixtures: {} cases in {} files: {} damaged, {} mismatched{}{}; {}\n", cases,
      files.size(), bad, mismatched,
      opt.regenerate ? fmt::format(", {} regenerated, {} not regenerable", regenerated,
                                   not_regenerable)
                     : "",
      suite ? fmt::format(", {} of {} suite cases missing", missing, suite->problems.size()) : "",
      bad                           ? "BAD INPUT"
      : (mismatched || missing)     ? "MISMATCH"
      : incomplete                  ? "NOT VERIFIED"
                                    : "OK");
  if (bad) return 2;
  return incomplete ? 1 : 0;
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
  cmd->add_option("--timeout", opt->timeout,
                  "seconds one file may take before it counts as damaged (hang); 0: no limit")
      ->capture_default_str();
  cmd->callback([opt, &exit_code] { exit_code = run_verify(*opt); });
}

}  // namespace normcheck::cli
