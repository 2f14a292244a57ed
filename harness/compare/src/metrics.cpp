#include "normcheck/compare/metrics.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "normcheck/compare/precision.hpp"

namespace normcheck::compare {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// 0 finite, 1 NaN, 2 +inf, 3 -inf.
int value_class(double v) {
  if (std::isnan(v)) return 1;
  if (std::isinf(v)) return v > 0 ? 2 : 3;
  return 0;
}

void note_first(std::int64_t& first, std::int64_t i) {
  if (first < 0) first = i;
}

}  // namespace

TensorMetrics measure(std::span<const double> golden, std::span<const double> actual,
                      std::span<const double> bound, numeric::DType dtype,
                      std::span<const std::uint8_t> unwritten) {
  if (golden.size() != actual.size() || golden.size() != bound.size() ||
      (!unwritten.empty() && unwritten.size() != golden.size()))
    throw std::invalid_argument("measure: golden, actual, bound and unwritten differ in length");
  TensorMetrics m;
  m.elements = std::int64_t(golden.size());
  for (std::size_t k = 0; k < golden.size(); ++k) {
    const auto i = std::int64_t(k);
    if (!unwritten.empty() && unwritten[k] != 0) {
      ++m.unwritten;
      note_first(m.first_unwritten, i);
      continue;
    }
    const double g = golden[k], a = actual[k];
    const int gc = value_class(g), ac = value_class(a);
    if (gc != ac) {
      ++m.nonfinite_mismatches;
      note_first(m.first_nonfinite_mismatch, i);
    }
    // A non-finite golden of the same class is matched exactly; any other
    // value there (a finite one from a kernel that skips NaN/inf, or the
    // other infinity) is an infinite error of the value check itself, not
    // only of the advisory nan_placement property.
    if (gc != 0 && ac == gc) continue;
    ++m.compared;
    const double err = (gc != 0 || ac != 0) ? kInf : std::fabs(a - g);
    double ratio = 0.0;
    if (err > 0.0) ratio = std::isfinite(bound[k]) && bound[k] > 0.0 ? err / bound[k] : kInf;
    if (err > m.max_abs_err) m.max_abs_err = err;
    if (gc == 0) {
      if (g != 0.0 && err / std::fabs(g) > m.max_rel_err) m.max_rel_err = err / std::fabs(g);
      const double ulps = err / ulp_at(dtype, g);
      if (ulps > m.max_ulp_err) m.max_ulp_err = ulps;
    } else {
      m.max_rel_err = kInf;
      m.max_ulp_err = kInf;
    }
    if (!m.worst || ratio > m.bound_ratio) {
      m.bound_ratio = ratio;
      m.worst = WorstElement{i, g, a, bound[k]};
    }
  }
  return m;
}

TensorMetrics combine(const TensorMetrics& a, const TensorMetrics& b, bool* b_is_worse) {
  const bool b_worse = b.worst && (!a.worst || b.bound_ratio > a.bound_ratio);
  if (b_is_worse != nullptr) *b_is_worse = b_worse;
  TensorMetrics m = b_worse ? b : a;
  const TensorMetrics& other = b_worse ? a : b;
  m.elements = a.elements + b.elements;
  m.compared = a.compared + b.compared;
  m.unwritten = a.unwritten + b.unwritten;
  if (m.first_unwritten < 0) m.first_unwritten = other.first_unwritten;
  m.nonfinite_mismatches = a.nonfinite_mismatches + b.nonfinite_mismatches;
  if (m.first_nonfinite_mismatch < 0) m.first_nonfinite_mismatch = other.first_nonfinite_mismatch;
  m.max_abs_err = std::fmax(a.max_abs_err, b.max_abs_err);
  m.max_rel_err = std::fmax(a.max_rel_err, b.max_rel_err);
  m.max_ulp_err = std::fmax(a.max_ulp_err, b.max_ulp_err);
  return m;
}

}  // namespace normcheck::compare
