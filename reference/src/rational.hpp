#pragma once
// Exact rationals (GMP mpq through Boost) and exact conversions to them.

#include <boost/multiprecision/gmp.hpp>
#include <optional>

#include "mpfr_value.hpp"

namespace normcheck::reference::detail {

using Rational = boost::multiprecision::mpq_rational;
using Integer = boost::multiprecision::mpz_int;

// Exact: every finite double is a dyadic rational.
Rational to_rational(double v);
// Exact value of a finite MPFR number.
Rational to_rational(mpfr_srcptr v);
// sqrt(v) when v >= 0 is the square of a rational, else nullopt.
std::optional<Rational> rational_sqrt(const Rational& v);

}  // namespace normcheck::reference::detail
