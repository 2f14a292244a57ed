#include <fmt/core.h>

#include <fstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "normcheck/bench/bench.hpp"
#include "normcheck/model/op_traits.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::cli {

namespace {

// The normalizations (cbn has no kernel to time).
model::Op parse_op(const std::string& name) {
  const auto op = model::parse_op(name);
  if (!op || !model::traits(*op).has_backward)
    throw model::InputError(fmt::format("--ops: unknown op '{}' (ln, rms, bn, gn, in)", name));
  return *op;
}

numeric::DType parse_dtype(const std::string& name) {
  if (const auto t = numeric::parse_dtype(name)) return *t;
  throw model::InputError(fmt::format("--dtypes: unknown dtype '{}' (f64, f32, f16, bf16)", name));
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "bench", "Measure backends' achieved memory bandwidth against the machine's copy bandwidth");
  struct Args {
    std::vector<std::string> backends, ops, dtypes;
    int reps = 5, threads = 0, scale = 1;
    std::string json;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--backend", args->backends,
                  "Built-in backend name or path to a plugin .so (repeatable; default: naive cpu)");
  cmd->add_option("--ops", args->ops, "Ops to time: ln, rms, bn, gn, in (default: ln,rms,bn,gn)")
      ->delimiter(',');
  cmd->add_option("--dtypes", args->dtypes, "Data dtypes (default: f32,bf16)")->delimiter(',');
  cmd->add_option("--reps", args->reps, "Timed calls per measurement (median; default 5)");
  cmd->add_option("--threads", args->threads,
                  "Threads for the copy and the backends (default: all cores)");
  cmd->add_option("--scale", args->scale,
                  "Divide every shape's batch by this (quick runs; default 1)");
  cmd->add_option("--json", args->json, "Also write the results as JSON to this file");
  cmd->callback([args, &exit_code] {
    bench::Options options;
    if (!args->backends.empty()) options.backends = args->backends;
    if (!args->ops.empty()) {
      options.ops.clear();
      for (const auto& o : args->ops) options.ops.push_back(parse_op(o));
    }
    if (!args->dtypes.empty()) {
      options.dtypes.clear();
      for (const auto& d : args->dtypes) options.dtypes.push_back(parse_dtype(d));
    }
    options.reps = args->reps;
    options.threads = args->threads;
    options.scale = args->scale;
    const auto report = bench::run(options);
    fmt::print("{}", bench::format_table(report));
    if (!args->json.empty()) {
      std::ofstream out(args->json);
      if (!out) throw model::InputError(fmt::format("--json: cannot write '{}'", args->json));
      out << bench::to_json(report);
    }
    exit_code = 0;
  });
}

}  // namespace normcheck::cli
