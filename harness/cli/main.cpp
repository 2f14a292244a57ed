// normcheck: numerical verification and regression harness for
// normalization kernels.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <new>

#include "command.hpp"
#include "normcheck/model/problem.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "normcheck - numerical verification of normalization kernels against certified references"};
  app.require_subcommand(1);
  app.footer(
      "Exit codes (every subcommand): 0 pass, 1 a check failed, 2 bad input or usage (named in "
      "one\n"
      "message on stderr; also a harness error), 130 interrupted (the report is still written).\n"
      "Limits on untrusted input (fixtures, suites, JSON, tolerance files): harness/README.md.");
  int exit_code = 0;
  normcheck::cli::add_describe_command(app, exit_code);
  normcheck::cli::add_bench_command(app, exit_code);
  normcheck::cli::add_generate_command(app, exit_code);
  normcheck::cli::add_verify_fixtures_command(app, exit_code);
  normcheck::cli::add_import_onnx_command(app, exit_code);
  normcheck::cli::add_run_command(app, exit_code);
  normcheck::cli::add_compare_command(app, exit_code);
  normcheck::cli::add_merge_command(app, exit_code);
  normcheck::cli::add_tolerances_command(app, exit_code);
  normcheck::cli::add_run_mpi_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const normcheck::model::InputError& e) {
    fmt::print(stderr, "normcheck: error: {}\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    // Readers name their file when they run out of memory; this is the rest.
    fmt::print(stderr,
               "normcheck: error: out of memory (std::bad_alloc): an input asks for more "
               "memory than this machine has\n");
    return 2;
  } catch (const std::exception& e) {
    // Only 0/1/2 (and 130) are documented: a bug of the harness is exit 2 too,
    // said to be one.
    fmt::print(stderr, "normcheck: internal error (a bug of normcheck, please report): {}\n",
               e.what());
    return 2;
  }
  return exit_code;
}
