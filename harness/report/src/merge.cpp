#include "normcheck/report/merge.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>

namespace normcheck::report {

namespace {

std::string join_distinct(const std::vector<std::string>& values) {
  std::string out;
  std::set<std::string> seen;
  for (const auto& v : values)
    if (!v.empty() && seen.insert(v).second) out += (out.empty() ? "" : "; ") + v;
  return out;
}

}  // namespace

Merged merge_results(const std::vector<Results>& inputs, const std::vector<std::string>& sources) {
  Merged m;
  Results& out = m.results;
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> position;
  std::vector<std::string> fixtures, tolerances, versions, reasons, hosts, machines;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Results& in = inputs[i];
    const RunInfo& run = in.run;
    if (i == 0 || run.started < out.run.started) out.run.started = run.started;
    if (i == 0 || run.finished > out.run.finished) out.run.finished = run.finished;
    out.run.incomplete = out.run.incomplete || run.incomplete;
    if (run.incomplete)
      reasons.push_back(
          fmt::format("{}: {}", i < sources.size() ? sources[i] : "input", run.incomplete_reason));
    out.run.cases_planned += run.cases_planned;
    out.run.cases_done += run.cases_done;
    out.run.timeout_seconds = std::max(out.run.timeout_seconds, run.timeout_seconds);
    out.run.jobs = std::max(out.run.jobs, run.jobs);
    fixtures.push_back(run.fixtures);
    tolerances.push_back(run.tolerances);
    versions.push_back(run.normcheck_version);
    hosts.push_back(run.hostname);
    machines.push_back(run.machine);
    if (out.run.filter.empty()) out.run.filter = run.filter;
    if (out.run.reproduce.empty()) out.run.reproduce = run.reproduce;
    out.run.cases_in_memory = out.run.cases_in_memory || run.cases_in_memory;
    for (const auto& b : in.backends) {
      bool known = false;
      for (auto& have : out.backends)
        if (have.name == b.name) {
          known = true;
          have.allow_unsupported = have.allow_unsupported || b.allow_unsupported;
        }
      if (!known) out.backends.push_back(b);
    }
    for (const auto& rec : in.records) {
      const auto key = std::make_tuple(rec.case_id, rec.backend, rec.check);
      const auto it = position.find(key);
      if (it != position.end()) {
        m.duplicates.push_back(fmt::format("{} {} {}", rec.case_id, rec.backend, rec.check));
        out.records[it->second] = rec;
        continue;
      }
      position.emplace(key, out.records.size());
      out.records.push_back(rec);
    }
  }
  out.run.fixtures = join_distinct(fixtures);
  out.run.tolerances = join_distinct(tolerances);
  out.run.normcheck_version = join_distinct(versions);
  out.run.hostname = join_distinct(hosts);
  out.run.machine = join_distinct(machines);
  out.run.incomplete_reason = join_distinct(reasons);
  out.run.shard = fmt::format("merged from {} results files", inputs.size());
  // The union is the whole run: a backend that executed nothing in any shard
  // now fails it (verdict.hpp).
  out.run.partial = false;
  std::string command = "normcheck merge";
  for (const auto& s : sources) command += " " + s;
  out.run.command = command;
  return m;
}

}  // namespace normcheck::report
