#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "normcheck/bench/bench.hpp"

namespace normcheck::bench {

namespace {

std::string dtype_of(const Result& r) {
  return std::string(numeric::dtype_name(r.workload.problem.data));
}

}  // namespace

std::string format_table(const Report& report) {
  std::string out = fmt::format(
      "machine: {} ({} cores), threads: {}, median of {} reps\n"
      "copy bandwidth: {:.1f} GB/s (read + write of a {} MiB multithreaded memcpy)\n\n",
      report.machine, report.cores, report.threads, report.reps, report.copy.gbps,
      report.copy.bytes >> 20);
  out += fmt::format("{:<10} {:<6} {:<4} {:<5} {:<22} {:>10} {:>8} {:>8}\n", "backend", "op", "dir",
                     "dtype", "shape", "median ms", "GB/s", "% copy");
  for (const auto& r : report.results) {
    const auto op = model::op_short_name(r.workload.problem.op);
    const auto dir = direction_name(r.workload.direction);
    if (!r.skipped.empty()) {
      out += fmt::format("{:<10} {:<6} {:<4} {:<5} {:<22} skipped: {}\n", r.backend, op, dir,
                         dtype_of(r), r.workload.shape_label, r.skipped);
      continue;
    }
    out += fmt::format("{:<10} {:<6} {:<4} {:<5} {:<22} {:>10.3f} {:>8.1f} {:>7.0f}%\n", r.backend,
                       op, dir, dtype_of(r), r.workload.shape_label, r.median_seconds * 1e3, r.gbps,
                       r.percent_of_copy);
  }
  return out;
}

std::string to_json(const Report& report) {
  nlohmann::json j;
  j["machine"] = {{"cpu", report.machine}, {"cores", report.cores}};
  j["threads"] = report.threads;
  j["reps"] = report.reps;
  j["copy"] = {{"gbps", report.copy.gbps},
               {"median_seconds", report.copy.median_seconds},
               {"bytes", report.copy.bytes}};
  auto& results = j["results"] = nlohmann::json::array();
  for (const auto& r : report.results) {
    nlohmann::json e = {{"backend", r.backend},
                        {"descriptor", model::to_descriptor(r.workload.problem)},
                        {"op", model::op_name(r.workload.problem.op)},
                        {"direction", direction_name(r.workload.direction)},
                        {"dtype", dtype_of(r)},
                        {"shape", r.workload.shape_label},
                        {"bytes", r.workload.bytes}};
    if (r.skipped.empty()) {
      e["median_seconds"] = r.median_seconds;
      e["min_seconds"] = r.min_seconds;
      e["gbps"] = r.gbps;
      e["percent_of_copy"] = r.percent_of_copy;
    } else {
      e["skipped"] = r.skipped;
    }
    results.push_back(e);
  }
  return j.dump(2) + "\n";
}

}  // namespace normcheck::bench
