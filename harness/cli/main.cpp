// normcheck: numerical verification and regression harness for
// normalization kernels.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <exception>

#include "command.hpp"
#include "normcheck/model/problem.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "normcheck - numerical verification of normalization kernels against certified references"};
  app.require_subcommand(1);
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
  } catch (const std::exception& e) {
    fmt::print(stderr, "normcheck: internal error: {}\n", e.what());
    return 3;
  }
  return exit_code;
}
