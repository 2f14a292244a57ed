// Each subcommand lives in its own file and registers itself on the CLI11
// app. A command's callback stores its exit code (0 pass, 1 fail); bad input
// is thrown as model::InputError and becomes exit code 2 in main().
#pragma once

#include <CLI/CLI.hpp>

namespace normcheck::cli {

void add_describe_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_verify_fixtures_command(CLI::App& app, int& exit_code);
void add_import_onnx_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_compare_command(CLI::App& app, int& exit_code);
void add_merge_command(CLI::App& app, int& exit_code);
void add_tolerances_command(CLI::App& app, int& exit_code);
void add_run_mpi_command(CLI::App& app, int& exit_code);

}  // namespace normcheck::cli
