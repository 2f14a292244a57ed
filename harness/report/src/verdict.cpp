#include "normcheck/report/verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "aggregate.hpp"

namespace normcheck::report {

std::vector<BackendTally> backend_tallies(const Results& r) {
  std::vector<BackendTally> out;
  std::map<std::string, std::size_t> position;
  const auto slot = [&](const std::string& name) -> BackendTally& {
    const auto [it, added] = position.emplace(name, out.size());
    if (added) {
      BackendTally t;
      t.backend = name;
      out.push_back(std::move(t));
    }
    return out[it->second];
  };
  for (const auto& b : r.backends) slot(b.name).allow_unsupported = b.allow_unsupported;
  std::map<std::string, std::set<std::string>> cases;
  std::map<std::string, std::map<std::string, std::int64_t>> reasons;
  for (const auto& rec : r.records) {
    BackendTally& t = slot(rec.backend);
    cases[rec.backend].insert(rec.case_id);
    ++t.checks;
    if (rec.status == Status::unsupported) {
      ++t.unsupported;
      ++reasons[rec.backend][rec.message];
    } else if (rec.gating) {
      ++t.executed;
    }
  }
  for (auto& t : out) {
    t.cases = std::int64_t(cases[t.backend].size());
    std::int64_t most = 0;
    for (const auto& [reason, n] : reasons[t.backend])
      if (n > most && !reason.empty()) {
        most = n;
        t.unsupported_example = reason;
      }
  }
  return out;
}

std::vector<BackendTally> empty_backends(const Results& r) {
  std::vector<BackendTally> out;
  for (auto& t : backend_tallies(r))
    if (t.cases > 0 && t.executed == 0) out.push_back(std::move(t));
  return out;
}

std::vector<BackendTally> failing_empty_backends(const Results& r) {
  std::vector<BackendTally> out;
  if (r.run.partial) return out;
  for (auto& t : empty_backends(r))
    if (!t.allow_unsupported) out.push_back(std::move(t));
  return out;
}

std::string empty_backend_message(const BackendTally& t) {
  std::string s = fmt::format("{}: 0 checks executed ({} unsupported", t.backend, t.unsupported);
  if (t.checks > t.unsupported) s += fmt::format(", {} not gating", t.checks - t.unsupported);
  if (!t.unsupported_example.empty()) {
    std::string example = t.unsupported_example.substr(0, t.unsupported_example.find('\n'));
    if (example.size() > 160) example = example.substr(0, 157) + "...";
    s += fmt::format(", e.g. \"{}\"", example);
  }
  return s + ")";
}

std::string executed_line(const std::vector<BackendTally>& tallies) {
  std::string s;
  for (const auto& t : tallies)
    s += fmt::format("{}{} {}", s.empty() ? "" : ", ", t.backend, t.executed);
  return s +
         (tallies.size() == 1 && tallies[0].executed == 1 ? " check executed" : " checks executed");
}

std::string verdict_word(const Results& r) {
  if (run_failed(r)) return "FAILED";
  const StatusCounts c = count_statuses(r.records);
  if (c.known_failures > 0)
    return fmt::format("PASSED ({}, tolerance file)", plural(c.known_failures, "known failure"));
  return "PASSED";
}

std::vector<const Record*> top_failures(const Results& r, std::size_t limit) {
  std::vector<const Record*> out;
  for (const auto& rec : r.records)
    if (rec.fails_run()) out.push_back(&rec);
  // A crash or a timeout has no ratio, and is worse than any.
  const auto key = [](const Record* x) {
    return std::isnan(x->bound_ratio) ? std::numeric_limits<double>::infinity() : x->bound_ratio;
  };
  std::stable_sort(out.begin(), out.end(), [&](const Record* a, const Record* b) {
    const bool ua = std::isnan(a->bound_ratio), ub = std::isnan(b->bound_ratio);
    if (ua != ub) return ua;
    return key(a) > key(b);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::size_t failure_count(const Results& r) {
  return std::size_t(std::count_if(r.records.begin(), r.records.end(),
                                   [](const Record& rec) { return rec.fails_run(); }));
}

std::string shell_quote(const std::string& text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("/._-+=:,@").find(c) != std::string_view::npos;
  });
  if (plain) return text;
  std::string s = "'";
  for (char c : text) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

std::string reproducer(const Results& r, const Record& rec) {
  std::string backend = rec.backend;
  for (const auto& b : r.backends)
    if (b.name == rec.backend)
      backend = !b.argument.empty() ? b.argument : !b.path.empty() ? b.path : b.name;
  std::string s = r.run.reproduce.empty()
                      ? fmt::format("normcheck run --fixtures {}", shell_quote(r.run.fixtures))
                      : r.run.reproduce;
  s += " --backend " + shell_quote(backend);
  // Always quoted: a descriptor holds no quote, and quoted it pastes the same in any shell.
  s += fmt::format(" {} '{}'", r.run.cases_in_memory ? "--descriptor" : "--filter", rec.case_id);
  return s;
}

std::string element_name(const WorstElement& w) {
  if (w.index.empty()) return w.tensor;  // a scalar
  return w.tensor + detail::format_index(w.index);
}

std::string failure_text(const Results& r, const Record& rec, std::size_t number) {
  std::string s = fmt::format("{:>3}. {}  {}  {}  {}", number, compare::status_name(rec.status),
                              rec.backend, rec.check, rec.case_id);
  if (!std::isnan(rec.bound_ratio))
    s += fmt::format("\n     bound ratio {} (tolerance {})", detail::format_ratio(rec.bound_ratio),
                     detail::format_ratio(rec.tolerance));
  if (rec.worst) {
    const auto& w = *rec.worst;
    s += fmt::format("\n     worst {}: golden {} -> actual {} (bound {})", element_name(w),
                     detail::format_value(w.golden), detail::format_value(w.actual),
                     detail::format_value(w.bound));
    if (w.kappa) s += fmt::format(", group kappa {}", detail::format_value(*w.kappa));
  }
  // A measured failure's message repeats the ratio; others say what happened.
  if (!rec.message.empty() && (std::isnan(rec.bound_ratio) || !rec.worst)) {
    std::string m = rec.message.substr(0, rec.message.find('\n'));
    if (m.size() > 200) m = m.substr(0, 197) + "...";
    s += "\n     " + m;
  }
  s += "\n     repro: " + reproducer(r, rec);
  return s;
}

}  // namespace normcheck::report
