#include <fmt/core.h>

#include "command.hpp"
#include "normcheck/fixture/case_size.hpp"
#include "normcheck/model/input_file.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::cli {

void add_describe_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("describe", "Parse a problem descriptor; print its normalized form and fields");
  auto descriptor = std::make_shared<std::string>();
  cmd->add_option("descriptor", *descriptor, "e.g. ln:bf16:f32:4x128x768:eps=1e-5:dist=offset")->required();
  cmd->callback([descriptor, &exit_code] {
    const model::Problem p = model::parse_descriptor(*descriptor);
    fmt::print("{}", model::describe(p));
    // What --max-case-bytes is compared with, so a user can size it.
    const fixture::CaseSize size = fixture::case_size(p);
    fmt::print("  {:<22} {}\n", "case bytes",
               size.total ? fmt::format("{} (inputs and goldens; largest {}, {})",
                                        model::format_bytes(*size.total), size.largest,
                                        model::format_bytes(*size.largest_bytes))
                          : std::string("more than 2^64"));
    exit_code = 0;
  });
}

}  // namespace normcheck::cli
