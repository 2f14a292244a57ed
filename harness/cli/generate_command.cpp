// normcheck generate: builds the golden fixtures of a suite, one file per
// case (DIR/<group name>.h5), in parallel worker processes, resuming by
// keeping every case file already present and valid. When the suite has a
// manifest (SUITE.manifest beside it), every case must match it bit for bit.
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <map>

#include "case_sources.hpp"
#include "command.hpp"
#include "max_case_bytes.hpp"
#include "normcheck/fixture/case_size.hpp"
#include "normcheck/fixture/fixture_index.hpp"
#include "normcheck/fixture/fixture_reader.hpp"
#include "normcheck/fixture/fixture_writer.hpp"
#include "normcheck/fixture/generator.hpp"
#include "normcheck/fixture/job_pool.hpp"
#include "normcheck/fixture/progress.hpp"
#include "normcheck/fixture/schema.hpp"
#include "normcheck/fixture/suite.hpp"
#include "normcheck/runner/locations.hpp"

namespace normcheck::cli {

namespace {

namespace fx = normcheck::fixture;

struct GenerateOptions {
  std::string suite;
  std::string out;
  std::string suites_dir;
  std::string manifest;
  bool update_manifest = false;
  bool list = false;
  unsigned jobs = 0;
  std::uint64_t max_case_bytes = fx::kDefaultMaxCaseBytes;
};

// Runs in a worker: "STATUS\tDIGEST\tSECONDS\tMESSAGE".
std::string generate_one(const model::Problem& problem, const std::filesystem::path& out_dir,
                         std::uint64_t max_case_bytes) {
  const auto start = std::chrono::steady_clock::now();
  const std::string descriptor = model::to_descriptor(problem);
  const auto file = out_dir / (fx::case_group_name(descriptor) + ".h5");
  const auto seconds = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (auto present = cli::existing_case(file, descriptor, max_case_bytes))
    return fmt::format("present\t{}\t{:.3f}\t", fx::content_digest(*present), seconds());
  try {
    const fx::Case c = fx::generate_case(problem);
    fx::write_fixture_file(file, {c});
    return fmt::format("generated\t{}\t{:.3f}\t", fx::content_digest(c), seconds());
  } catch (const model::InputError& e) {
    return fmt::format("failed\t-\t{:.3f}\t{}", seconds(), e.what());
  }
}

struct Outcome {
  std::string status, digest, message;
  double seconds = 0;
};

Outcome parse_report(const std::string& line) {
  Outcome o;
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (int k = 0; k < 3; ++k) {
    const auto tab = line.find('\t', start);
    if (tab == std::string::npos) break;
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
  if (fields.size() < 3) return {"error", "-", line, 0};  // the job pool's own error line
  o.status = fields[0];
  o.digest = fields[1];
  o.seconds = std::stod(fields[2]);
  o.message = line.substr(start);
  return o;
}

int run_generate(const GenerateOptions& opt) {
  const std::filesystem::path suites_dir =
      opt.suites_dir.empty() ? runner::suites_dir() : std::filesystem::path(opt.suites_dir);
  const auto suite_file = fx::resolve_suite(opt.suite, suites_dir);
  const fx::Suite suite = fx::load_suite(suite_file);
  // Before any worker starts: a case too large for this machine is bad input
  // (exit 2), not a std::bad_alloc in the middle of the run.
  for (const auto& p : suite.problems) {
    if (const auto why = fx::case_too_large(p, opt.max_case_bytes))
      throw model::InputError(fmt::format("suite '{}': case '{}': {}", suite_file.string(),
                                          model::to_descriptor(p), *why));
  }
  if (opt.list) {
    for (const auto& p : suite.problems) fmt::print("{}\n", model::to_descriptor(p));
    return 0;
  }
  std::filesystem::path manifest_file = opt.manifest;
  if (manifest_file.empty())
    manifest_file = std::filesystem::path(suite_file).replace_extension(".manifest");
  std::error_code ec;
  // A manifest named on the command line must be there; the suite's own is
  // checked when anything exists at its path (a FIFO or folder there is an
  // error from read_manifest, not a silently skipped check).
  const bool check_manifest =
      !opt.update_manifest && (!opt.manifest.empty() || std::filesystem::exists(manifest_file, ec));
  const fx::Manifest manifest = check_manifest ? fx::read_manifest(manifest_file) : fx::Manifest{};

  const std::filesystem::path out_dir(opt.out);
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw model::InputError(fmt::format("--out '{}': {}", opt.out, ec.message()));

  const unsigned jobs = opt.jobs > 0 ? opt.jobs : fx::available_cores();
  const std::size_t total = suite.problems.size();
  fmt::print("generate: suite '{}' ({} cases) into {} with {} worker{}{}\n", suite.name, total,
             out_dir.string(), jobs, jobs == 1 ? "" : "s",
             check_manifest ? fmt::format(", checked against {}", manifest_file.string()) : "");
  // Work weights for the ETA: the reference's cost grows with the element
  // count; a fixed part stands for the per-case cost of small cases.
  std::vector<double> work(total);
  double total_work = 0;
  for (std::size_t i = 0; i < total; ++i)
    total_work += work[i] = double(suite.problems[i].element_count()) + 20000.0;
  fx::Progress progress(total, fx::stdout_is_terminal(), stdout, total_work);
  int generated = 0, present = 0, failed = 0, mismatched = 0;
  fx::Manifest digests;
  std::vector<fx::IndexEntry> index;
  std::vector<std::string> failures;

  fx::run_jobs(
      total, jobs,
      [&](std::size_t i) { return generate_one(suite.problems[i], out_dir, opt.max_case_bytes); },
      [&](std::size_t i, const std::string& line) {
        const std::string descriptor = model::to_descriptor(suite.problems[i]);
        const Outcome o = parse_report(line);
        std::string failure;
        if (o.status == "generated" || o.status == "present") {
          ++(o.status == "generated" ? generated : present);
          digests[descriptor] = o.digest;
          index.push_back({fx::case_group_name(descriptor) + ".h5", 0, descriptor});
          const auto it = manifest.find(descriptor);
          if (check_manifest && it == manifest.end())
            failure = "MISMATCH: not in the manifest";
          else if (check_manifest && it->second != o.digest)
            failure = fmt::format("MISMATCH: digest {} differs from the manifest's {}",
                                  o.digest.substr(0, 16), it->second.substr(0, 16));
          if (!failure.empty()) ++mismatched;
        } else {
          ++failed;
          failure = "FAILED: " + o.message;
        }
        if (!failure.empty()) failures.push_back(fmt::format("{} {}", descriptor, failure));
        // Details follow on stderr once, after the run.
        progress.step(failure.empty()
                          ? fmt::format("{} {} ({:.2f} s)", o.status, descriptor, o.seconds)
                          : fmt::format("{} {}", failure.substr(0, failure.find(':')), descriptor),
                      !failure.empty(), work[i], o.status == "present");
      });
  progress.finish();
  // The index lets `run` select cases without opening a fixture file.
  fx::write_fixture_index(out_dir, index);

  if (opt.update_manifest) {
    fx::write_manifest(
        manifest_file, digests,
        fmt::format("Content digests of the '{}' suite (normcheck generate --update-manifest).\n"
                    "DIGEST  DESCRIPTOR: SHA-256 over every dataset (fixtures/README.md).",
                    suite.name));
    fmt::print("generate: wrote {} digests to {}\n", digests.size(), manifest_file.string());
  }
  fmt::print("generate: {} generated, {} present, {} failed in {}", generated, present, failed,
             fx::Progress::format_duration(progress.elapsed_seconds()));
  if (check_manifest)
    fmt::print("; manifest: {} of {} match", generated + present - mismatched, total);
  fmt::print("\n");
  for (const auto& f : failures) fmt::print(stderr, "generate: {}\n", f);
  return failures.empty() ? 0 : 1;
}

}  // namespace

void add_generate_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand(
      "generate", "Generate the golden fixtures of a suite from the certified reference");
  cmd->add_option("--suite", opt->suite, "suite name (fixtures/suites/NAME.txt) or suite file")
      ->required();
  auto* out = cmd->add_option("--out", opt->out, "output directory (one NAME.h5 per case)");
  cmd->add_flag("--list", opt->list, "print the suite's normalized descriptors and exit");
  cmd->add_option("--jobs,-j", opt->jobs, "worker processes (default: the available cores)");
  cmd->add_option("--suites-dir", opt->suites_dir,
                  "where suite names are looked up (default: the source tree's fixtures/suites)");
  cmd->add_option(
      "--manifest", opt->manifest,
      "manifest to check against (default: the suite file with .manifest, when present)");
  cmd->add_flag("--update-manifest", opt->update_manifest,
                "write the digests of this run to the manifest instead of checking");
  const MaxCaseBytes max_case_bytes(cmd);
  cmd->callback([opt, out, max_case_bytes, &exit_code] {
    if (!opt->list && out->count() == 0) throw model::InputError("generate: --out is required");
    opt->max_case_bytes = max_case_bytes.resolve();
    exit_code = run_generate(*opt);
  });
}

}  // namespace normcheck::cli
