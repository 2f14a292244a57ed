#pragma once
// Rounding exact values to double, and the geometry of rounding boundaries.
// Convention: the sign of a zero result is not certified, so every zero is
// returned as +0; NaN is returned as the canonical quiet NaN.

#include <mpfr.h>

#include "rational.hpp"

namespace normcheck::reference::detail {

double canonical(double v);
bool same_double(double a, double b);  // both NaN, or equal (so -0 == +0)

// Correctly rounded (nearest, ties to even, subnormals included) value of an
// exact MPFR number; mpfr_get_d rounds once from the full value.
double round_exact(mpfr_srcptr v);
// Correctly rounded value of an exact rational.
double round_exact(const Rational& q);

// Next result above v in the order of returned values (zeros merged).
double next_result_up(double v);
// The rounding boundary between adjacent results a < b: their midpoint
// (+inf counts as 2^1024, as IEEE overflow does).
Rational midpoint(double a, double b);

}  // namespace normcheck::reference::detail
