// Floating-point facts the error model is built from: unit roundoff, the
// spacing of a dtype at a value (its ULP), the absolute error floor of
// gradual underflow, and the growth factor of a reduction of length n.
#pragma once

#include <cstdint>

#include "normcheck/numeric/dtype.hpp"

namespace normcheck::compare {

using numeric::DType;

// Smallest positive subnormal of t: below the normal range a rounding errs
// by up to half of it in absolute terms, whatever the magnitude.
double smallest_subnormal(DType t);

// Spacing of the representable values of t at |v| (for v == 0 or subnormal
// v: the subnormal spacing). Errors in ULPs are measured in this unit at the
// golden value, as glibc's libm-test does.
double ulp_at(DType t, double v);

// Growth factor of the rounding error of a sum of n terms, in units of
// u * sum|terms|: 2 * sqrt(n) + 2. Why sqrt(n) and not the worst case n - 1:
// a kernel that sums sequentially (or with Welford's update) makes n
// independent roundings whose errors behave like a random walk, so the total
// stays below about sqrt(n) * u with overwhelming probability (Higham & Mary,
// "A new approach to probabilistic rounding error analysis", 2019); pairwise
// and blocked sums stay below log2(n) * u even in the worst case, and log2(n)
// <= 2 * sqrt(n) for every n. The factor 2 and the constant 2 absorb the
// roundings around the sum (the division by n, the final product) and a
// random walk that lands a few standard deviations out. reports/README.md
// shows the calibration.
double reduction_factor(std::int64_t n);

}  // namespace normcheck::compare
