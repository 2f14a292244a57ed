#include <fmt/core.h>

#include "command.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::cli {

void add_describe_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("describe", "Parse a problem descriptor; print its normalized form and fields");
  auto descriptor = std::make_shared<std::string>();
  cmd->add_option("descriptor", *descriptor, "e.g. ln:bf16:f32:4x128x768:eps=1e-5:dist=offset")->required();
  cmd->callback([descriptor, &exit_code] {
    const model::Problem p = model::parse_descriptor(*descriptor);
    fmt::print("{}", model::describe(p));
    exit_code = 0;
  });
}

}  // namespace normcheck::cli
