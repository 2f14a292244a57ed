// normcheck import-onnx: turns ONNX backend node tests of the normalization
// ops (Debian libonnx-testdata) into fixture files, OUT/<test name>.h5, whose
// golden outputs are ONNX's expected outputs (source "onnx").
#include <fmt/core.h>

#include <filesystem>

#include "command.hpp"
#include "normcheck/model/problem.hpp"

#ifdef NORMCHECK_HAVE_ONNX
#include "normcheck/fixture/fixture_writer.hpp"
#include "normcheck/fixture/onnx_import.hpp"
#endif

namespace normcheck::cli {

namespace {

struct ImportOptions {
  std::string source;
  std::string out;
};

int run_import(const ImportOptions& opt) {
#ifdef NORMCHECK_HAVE_ONNX
  namespace fx = normcheck::fixture;
  const std::filesystem::path source =
      opt.source.empty() ? fx::default_onnx_node_test_dir() : std::filesystem::path(opt.source);
  const auto tests = fx::onnx_node_tests(source);
  if (tests.empty())
    throw model::InputError(
        fmt::format("'{}' holds no LayerNormalization/BatchNormalization/"
                    "InstanceNormalization node tests",
                    source.string()));
  std::error_code ec;
  std::filesystem::create_directories(opt.out, ec);
  if (ec) throw model::InputError(fmt::format("--out '{}': {}", opt.out, ec.message()));
  std::size_t cases = 0;
  for (const auto& test : tests) {
    const auto imported = fx::import_onnx_test(test);
    fx::write_fixture_file(std::filesystem::path(opt.out) / (test.filename().string() + ".h5"),
                           imported);
    for (const auto& c : imported)
      fmt::print("import-onnx: {} -> {}\n", test.filename().string(), c.descriptor());
    cases += imported.size();
  }
  fmt::print("import-onnx: {} cases from {} tests into {}\n", cases, tests.size(), opt.out);
  return 0;
#else
  (void)opt;
  throw model::InputError(
      "import-onnx: this normcheck was built without the ONNX protobuf definitions "
      "(Debian libonnx-dev, libprotobuf-dev); reconfigure once they are installed");
#endif
}

}  // namespace

void add_import_onnx_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<ImportOptions>();
  auto* cmd = app.add_subcommand("import-onnx",
                                 "Import ONNX node tests of layer/batch/instance norm as fixtures");
  cmd->add_option("dir", opt->source,
                  "ONNX node test directory (default: /usr/share/libonnx-testdata/data/node)");
  cmd->add_option("--out", opt->out, "output directory (one TEST.h5 per ONNX test)")->required();
  cmd->callback([opt, &exit_code] { exit_code = run_import(*opt); });
}

}  // namespace normcheck::cli
