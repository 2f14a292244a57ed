#include "normcheck/report/results.hpp"

#include <fmt/format.h>

#include <cmath>

namespace normcheck::report {

bool Record::measured() const {
  return (status == Status::pass || status == Status::fail) && !std::isnan(bound_ratio);
}

StatusCounts count_statuses(const std::vector<Record>& records) {
  StatusCounts c;
  for (const auto& r : records) {
    ++c.by_status[int(r.status)];
    ++c.total;
    if (!r.gating && r.status != Status::pass && r.status != Status::unsupported)
      ++c.non_gating_failures;
  }
  return c;
}

bool run_failed(const Results& r) {
  for (const auto& rec : r.records)
    if (rec.fails_run()) return true;
  return false;
}

std::string status_line(const StatusCounts& c) {
  std::string s;
  for (Status st : compare::kAllStatuses) {
    if (c.of(st) == 0 && st != Status::pass) continue;
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}", c.of(st), compare::status_name(st));
    if (st == Status::fail && c.non_gating_failures > 0)
      s += fmt::format(" ({} known or advisory)", c.non_gating_failures);
  }
  return s;
}

}  // namespace normcheck::report
