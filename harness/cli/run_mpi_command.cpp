// normcheck run-mpi: SyncBatchNorm over MPI (harness/mpi). Started by
// mpirun, one process per rank:
//   mpirun -np 3 build/normcheck run-mpi --suite syncbn --backend cpu
// Runs the SyncBN cases of the fixtures whose shard count equals the number
// of ranks; rank 0 writes the report. Exit 0 pass, 1 fail, 2 bad input, on
// every rank.
#include "command.hpp"
#include "max_case_bytes.hpp"
#include "normcheck/mpi/run_mpi.hpp"

namespace normcheck::cli {

namespace {

std::string command_line(const mpi::RunMpiOptions& o) {
  std::string s = "normcheck run-mpi";
  if (!o.suite.empty()) s += " --suite " + o.suite;
  if (!o.fixtures.empty()) s += " --fixtures " + o.fixtures;
  for (const auto& b : o.backends) s += " --backend " + b;
  if (!o.tolerances.empty()) s += " --tolerances " + o.tolerances;
  s += " --report " + o.report;
  if (!o.filter.empty()) s += " --filter '" + o.filter + "'";
  return s + " --timeout " + std::to_string(o.timeout_seconds);
}

}  // namespace

void add_run_mpi_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<mpi::RunMpiOptions>();
  auto* cmd = app.add_subcommand("run-mpi",
                                 "SyncBatchNorm over MPI: under `mpirun -np R`, run the SyncBN "
                                 "cases with R shards, one shard per rank "
                                 "(exit 0 pass, 1 fail, 2 bad input)");
  cmd->add_option("--fixtures", o->fixtures,
                  "Folder of fixture files (*.h5, searched recursively)");
  cmd->add_option("--suite", o->suite,
                  "Named suite: syncbn (generated into .cache/fixtures/syncbn), quick, nightly");
  cmd->add_option("--backend", o->backends,
                  "Built-in backend name (cpu, ...) or path to a plugin .so; repeatable")
      ->required();
  cmd->add_option("--tolerances", o->tolerances,
                  "Tolerance file (default: reports/tolerances/default.toml)");
  cmd->add_option("--report", o->report,
                  "Report folder, written by rank 0 (default: reports/latest-mpi)");
  cmd->add_option(
      "--filter", o->filter,
      "Cases to run: a glob over the descriptor ('bn:f32:*'), or 're:' + an ECMAScript regex");
  cmd->add_option(
      "--timeout", o->timeout_seconds,
      "Seconds per case and backend before the ranks' workers are killed (0: none; default 60)");
  const MaxCaseBytes max_case_bytes(cmd);
  cmd->callback([o, max_case_bytes, &exit_code] {
    o->max_case_bytes = max_case_bytes.resolve();
    o->command = command_line(*o);
    exit_code = mpi::run_mpi(*o);
  });
}

}  // namespace normcheck::cli
