// The tolerance file: how far above the documented error bound a backend
// may land, per backend, op, check and dtype; which properties a backend
// must have; and its known failures. A checked-in TOML file
// (reports/tolerances/default.toml, format in reports/README.md), so every
// loosening is a reviewed diff.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace normcheck::compare {

inline constexpr int kToleranceSchemaVersion = 1;

// The largest limits a tolerance file may set. A kernel 10^6 times worse
// than the documented bound is not "within tolerance" but broken: it gets an
// [[expected_fail]] with its reason, which keeps it visible. 10^9 ULPs
// admits any finite f32/f16/bf16 value of the right sign: no check at all.
inline constexpr double kMaxLimitBoundRatio = 1e6;
inline constexpr double kMaxLimitUlp = 1e9;

struct Limit {
  double max_bound_ratio = 1.0;   // error / documented bound
  std::optional<double> max_ulp;  // and, when set, error in ULPs of the output dtype
};

struct Requirements {
  bool batch_invariance = false;
  bool determinism = false;
  bool nan_placement = false;
};

// A [[limit]] rule. Empty or "*" fields match anything; among the rules that
// match, the one naming the most fields wins (the later one on a tie).
struct LimitRule {
  std::string backend, op, check, dtype;
  std::optional<double> max_bound_ratio, max_ulp;
  std::string note;  // why: kept through regeneration
};

// An [[expected_fail]] entry: a known failure that does not fail the run.
// It still shows as "fail" in every report, marked expected, with the reason.
struct ExpectedFailure {
  std::string backend;       // exact name or glob
  std::string case_pattern;  // glob over the normalized descriptor
  std::string check = "*";   // glob over the check name
  std::string reason;
};

struct BackendTolerances {
  std::optional<double> max_bound_ratio, max_ulp;
  std::optional<bool> require_batch_invariance, require_determinism, require_nan_placement;
  // A run in which this backend executes no check (it declines every case,
  // e.g. a GPU backend on a machine without one) does not fail.
  std::optional<bool> allow_unsupported;
};

class Tolerances {
 public:
  // Every check at bound ratio 1, no property required, no known failure.
  static Tolerances builtin();
  // InputError naming the file and line: a syntax error, an unknown key, a
  // value of the wrong type, a limit that is negative, NaN, infinite or above
  // its maximum (kMaxLimitBoundRatio, kMaxLimitUlp), another schema version.
  // load() reads only a regular file of at most model::kMaxTextFileBytes.
  static Tolerances parse(std::string_view text, const std::string& source);
  static Tolerances load(const std::filesystem::path& path);

  Limit limit(std::string_view backend, std::string_view op, std::string_view check,
              std::string_view dtype) const;
  Requirements requirements(std::string_view backend) const;
  bool allows_unsupported(std::string_view backend) const;
  const ExpectedFailure* expected_failure(std::string_view backend,
                                          std::string_view case_descriptor,
                                          std::string_view check) const;

  // The file again, in a fixed order, with `header` as leading comment lines.
  std::string to_toml(std::string_view header) const;

  Limit default_limit;
  Requirements default_requirements;
  std::map<std::string, BackendTolerances> backends;
  std::vector<ExpectedFailure> expected_failures;
  std::vector<LimitRule> limits;
};

// Shell-style glob (*, ?, [...]) over the whole string; '*' crosses ':' and '/'.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace normcheck::compare
