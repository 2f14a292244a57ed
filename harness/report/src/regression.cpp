#include "normcheck/report/regression.hpp"

#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace normcheck::report {

namespace {

using Key = std::tuple<std::string, std::string, std::string>;

Key key_of(const Record& r) {
  return {r.case_id, r.backend, r.check};
}

bool got_worse(const Record& base, const Record& now) {
  if (compare::severity(now.status) > compare::severity(base.status)) return true;
  return base.status == Status::pass && now.status == Status::unsupported;
}

}  // namespace

std::vector<Change> compare_runs(const Results& base, const Results& now,
                                 const RegressionOptions& options) {
  std::map<Key, const Record*> before;
  for (const auto& r : base.records) before[key_of(r)] = &r;
  std::set<Key> seen;
  std::vector<Change> changes;
  for (const auto& r : now.records) {
    const Key key = key_of(r);
    seen.insert(key);
    const auto it = before.find(key);
    if (it == before.end()) {
      changes.push_back({Change::Kind::appeared, nullptr, &r, r.fails_run()});
      continue;
    }
    const Record& b = *it->second;
    if (b.status != r.status) {
      changes.push_back({Change::Kind::status_changed, &b, &r, got_worse(b, r)});
      continue;
    }
    if (b.measured() && r.measured() && r.bound_ratio >= options.min_ratio &&
        r.bound_ratio > options.growth * b.bound_ratio)
      changes.push_back({Change::Kind::error_grew, &b, &r, true});
  }
  for (const auto& r : base.records)
    if (!seen.contains(key_of(r)))
      changes.push_back({Change::Kind::disappeared, &r, nullptr, false});
  return changes;
}

}  // namespace normcheck::report
