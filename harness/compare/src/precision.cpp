#include "normcheck/compare/precision.hpp"

#include <cmath>
#include <limits>

namespace normcheck::compare {

namespace {

// Exponent of the smallest normal number of t.
int min_normal_exponent(DType t) {
  switch (t) {
    case DType::f64:
      return -1022;
    case DType::f32:
      return -126;
    case DType::f16:
      return -14;
    case DType::bf16:
      return -126;
  }
  return -126;
}

}  // namespace

double smallest_subnormal(DType t) {
  return std::ldexp(1.0, min_normal_exponent(t) - (numeric::dtype_precision(t) - 1));
}

double ulp_at(DType t, double v) {
  const double magnitude = std::fabs(v);
  if (!std::isfinite(magnitude)) return std::numeric_limits<double>::infinity();
  int exponent = min_normal_exponent(t);
  if (magnitude != 0.0) {
    int e = 0;
    std::frexp(magnitude, &e);  // magnitude = f * 2^e, f in [0.5, 1)
    if (e - 1 > exponent) exponent = e - 1;
  }
  return std::ldexp(1.0, exponent - (numeric::dtype_precision(t) - 1));
}

double reduction_factor(std::int64_t n) {
  return 2.0 * std::sqrt(double(n < 1 ? 1 : n)) + 2.0;
}

}  // namespace normcheck::compare
