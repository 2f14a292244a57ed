#include "normcheck/report/results.hpp"

#include <fmt/format.h>

#include <cmath>

#include "normcheck/report/verdict.hpp"

namespace normcheck::report {

bool Record::measured() const {
  return (status == Status::pass || status == Status::fail) && !std::isnan(bound_ratio);
}

void count_record(StatusCounts& c, const Record& r) {
  ++c.by_status[int(r.status)];
  ++c.total;
  if (!r.gating && r.status != Status::pass && r.status != Status::unsupported) {
    ++c.non_gating_failures;
    if (r.known_failure()) ++c.known_failures;
  }
}

StatusCounts count_statuses(const std::vector<Record>& records) {
  StatusCounts c;
  for (const auto& r : records) count_record(c, r);
  return c;
}

bool run_failed(const Results& r) {
  for (const auto& rec : r.records)
    if (rec.fails_run()) return true;
  return !failing_empty_backends(r).empty();
}

std::string plural(std::int64_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

std::string status_line(const StatusCounts& c) {
  std::string s;
  for (Status st : compare::kAllStatuses) {
    if (c.of(st) == 0 && st != Status::pass) continue;
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}", c.of(st), compare::status_name(st));
    if (st == Status::fail && c.non_gating_failures > 0) {
      const std::int64_t advisory = c.non_gating_failures - c.known_failures;
      std::string why;
      if (c.known_failures > 0) why = plural(c.known_failures, "known failure");
      if (advisory > 0) why += fmt::format("{}{} advisory", why.empty() ? "" : ", ", advisory);
      s += fmt::format(" ({}: tolerance file)", why);
    }
  }
  return s;
}

}  // namespace normcheck::report
