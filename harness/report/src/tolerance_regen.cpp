#include "normcheck/report/tolerance_regen.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <tuple>

namespace normcheck::report {

namespace {

struct Observed {
  double ratio = 0.0, ulp = 0.0;
  std::string ratio_case, ulp_case;
};

using Key = std::tuple<std::string, std::string, std::string, std::string>;

compare::LimitRule& rule_for(compare::Tolerances& t, const Key& key) {
  const auto& [backend, op, check, dtype] = key;
  for (auto& r : t.limits)
    if (r.backend == backend && r.op == op && r.check == check && r.dtype == dtype) return r;
  t.limits.push_back(compare::LimitRule{backend, op, check, dtype, std::nullopt, std::nullopt, ""});
  return t.limits.back();
}

}  // namespace

double round_up_2_digits(double v) {
  if (!(v > 0.0) || !std::isfinite(v)) return v;
  const double scale = std::pow(10.0, std::floor(std::log10(v)) - 1.0);  // v / scale in [10, 100)
  const double r = std::ceil(v / scale) * scale;
  // Written with two digits (3.3, not 3.3000000000000003) when that is still >= v.
  const double printed = std::stod(fmt::format("{:.2g}", r));
  return printed >= v ? printed : r;
}

Regenerated regenerate_tolerances(const Results& results, const compare::Tolerances& base,
                                  double margin) {
  Regenerated out{base, {}, {}};
  std::map<Key, Observed> observed;
  for (const auto& r : results.records) {
    if (!r.measured()) continue;
    if (base.expected_failure(r.backend, r.case_id, r.check) != nullptr)
      continue;  // known: stays known
    if (!std::isfinite(r.bound_ratio) ||
        (r.status == Status::fail && r.message.find("never written") != std::string::npos)) {
      out.skipped.push_back(fmt::format("{} {} [{}]: {}", r.backend, r.case_id, r.check,
                                        r.message.empty() ? "non-finite error" : r.message));
      continue;
    }
    Observed& o = observed[{r.backend, r.op, r.check, r.dtype}];
    if (r.bound_ratio > o.ratio) {
      o.ratio = r.bound_ratio;
      o.ratio_case = r.case_id;
    }
    if (r.max_ulp_err > o.ulp) {
      o.ulp = r.max_ulp_err;
      o.ulp_case = r.case_id;
    }
  }
  for (const auto& [key, o] : observed) {
    const auto& [backend, op, check, dtype] = key;
    const compare::Limit current = base.limit(backend, op, check, dtype);
    const double ratio = round_up_2_digits(o.ratio * margin);
    // A file with a limit above the maximum would not load again: such an
    // error is listed for a reviewer (fix the kernel, or [[expected_fail]]).
    if (o.ratio > current.max_bound_ratio && ratio > compare::kMaxLimitBoundRatio) {
      out.skipped.push_back(fmt::format(
          "{} {} {} {}: observed bound ratio {:.4g} in {}; no limit above {:g} is accepted",
          backend, op, check, dtype, o.ratio, o.ratio_case, compare::kMaxLimitBoundRatio));
    } else if (o.ratio > current.max_bound_ratio) {
      compare::LimitRule& r = rule_for(out.tolerances, key);
      r.max_bound_ratio = ratio;
      r.note = fmt::format("regenerated: observed bound ratio {:.4g} in {}", o.ratio, o.ratio_case);
      out.raised.push_back(fmt::format(
          "{} {} {} {}: max_bound_ratio {:.4g} -> {:.4g} (observed {:.4g} in {})", backend, op,
          check, dtype, current.max_bound_ratio, ratio, o.ratio, o.ratio_case));
    }
    if (current.max_ulp && o.ulp > *current.max_ulp &&
        round_up_2_digits(o.ulp * margin) > compare::kMaxLimitUlp) {
      out.skipped.push_back(fmt::format(
          "{} {} {} {}: observed {:.4g} ULPs in {}; no ULP limit above {:g} is accepted", backend,
          op, check, dtype, o.ulp, o.ulp_case, compare::kMaxLimitUlp));
    } else if (current.max_ulp && o.ulp > *current.max_ulp) {
      const double ulp = round_up_2_digits(o.ulp * margin);
      compare::LimitRule& r = rule_for(out.tolerances, key);
      r.max_ulp = ulp;
      if (r.note.empty())
        r.note = fmt::format("regenerated: observed {:.4g} ULPs in {}", o.ulp, o.ulp_case);
      out.raised.push_back(
          fmt::format("{} {} {} {}: max_ulp {:.4g} -> {:.4g} (observed {:.4g} in {})", backend, op,
                      check, dtype, *current.max_ulp, ulp, o.ulp, o.ulp_case));
    }
  }
  return out;
}

}  // namespace normcheck::report
