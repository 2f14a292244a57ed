// normcheck: numerical verification and regression harness for
// normalization kernels.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <new>

#include "command.hpp"
#include "normcheck/model/problem.hpp"
#include "suggest.hpp"

namespace {

// CLI11 says "The following arguments were not expected: cpu --backends";
// a user needs the option named, and the one they probably meant.
std::string unknown_arguments_message(const CLI::App& app) {
  const CLI::App* where = &app;
  for (const CLI::App* sub : app.get_subcommands())
    if (sub->parsed()) where = sub;
  std::vector<std::string> options;
  for (const CLI::Option* o : where->get_options()) {
    const std::string n = o->get_name(false, true);
    std::size_t start = 0;
    while (start <= n.size()) {  // "-h,--help": each name
      const auto comma = n.find(',', start);
      const std::string one = n.substr(start, comma - start);
      if (one.starts_with("--")) options.push_back(one);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  const std::string command = where == &app ? "normcheck" : "normcheck " + where->get_name();
  std::string message, stray;
  for (const std::string& arg : where->remaining()) {
    if (arg.starts_with("-")) {
      const std::string name = arg.substr(0, arg.find('='));
      const auto near = normcheck::cli::closest(name, options, 1);
      message += fmt::format("{}unknown option '{}'", message.empty() ? "" : "; ", name);
      if (!near.empty() && normcheck::cli::edit_distance(name, near[0]) <= 3)
        message += fmt::format(" (did you mean {}?)", near[0]);
    } else {
      stray += (stray.empty() ? "" : " ") + arg;
    }
  }
  if (message.empty()) message = fmt::format("unexpected argument(s) '{}'", stray);
  return fmt::format("{}: {}; {} --help lists the options", command, message, command);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "normcheck - numerical verification of normalization kernels against certified references"};
  app.set_version_flag("--version", std::string("normcheck ") + NORMCHECK_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes (every subcommand): 0 pass, 1 a check failed, 2 bad input or usage (named in "
      "one\n"
      "message on stderr; also a harness error), 130 interrupted (the report is still written).\n"
      "Limits on untrusted input (fixtures, suites, JSON, tolerance files): harness/README.md.");
  int exit_code = 0;
  normcheck::cli::add_describe_command(app, exit_code);
  normcheck::cli::add_list_command(app, exit_code);
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
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    fmt::print(stderr, "normcheck: error: {}\n", unknown_arguments_message(app));
    return 2;
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
