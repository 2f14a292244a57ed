// Combining the results of shards (normcheck run --shard K/N) into one run.
#pragma once

#include <string>
#include <vector>

#include "normcheck/report/results.hpp"

namespace normcheck::report {

struct Merged {
  Results results;
  // (case, backend, check) keys present in more than one input; the later
  // input's record is kept.
  std::vector<std::string> duplicates;
};

// Records in input order; backends united by name; run metadata spanning
// all inputs (earliest start, latest finish, incomplete if any input is).
Merged merge_results(const std::vector<Results>& inputs, const std::vector<std::string>& sources);

}  // namespace normcheck::report
