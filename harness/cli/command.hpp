// Each subcommand lives in its own file and registers itself on the CLI11
// app. A command's callback stores its exit code (0 pass, 1 fail); bad input
// is thrown as model::InputError and becomes exit code 2 in main().
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

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
void add_list_command(CLI::App& app, int& exit_code);

// How to call this binary again in a printed command: argv[0] made absolute
// when it was a path, else "normcheck" (it was found on PATH).
inline std::string program_path(const CLI::App& app) {
  const CLI::App* root = &app;
  while (root->get_parent() != nullptr) root = root->get_parent();
  const std::string name = root->get_name();
  if (name.find('/') == std::string::npos) return "normcheck";
  return std::filesystem::absolute(name).lexically_normal().string();
}

}  // namespace normcheck::cli
