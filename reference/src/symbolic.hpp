#pragma once
// Exact values of the form q0 + sum_k c_k / sqrt(v_k) with rationals q0, c_k
// and positive rationals v_k (one atom per distinct statistic: 1/sqrt(v_k) is
// a group's rstd). Every certified output of this library has this form, so
// an exact comparison with a rounding midpoint (or zero) is decidable: it
// settles the values that interval enclosures can never separate from a
// boundary because they lie exactly on it.

#include <cstdint>
#include <vector>

#include "rational.hpp"

namespace normcheck::reference::detail {

class Symbolic {
 public:
  Symbolic() = default;
  Symbolic(const Rational& q) : q0_(q) {}      // NOLINT: rationals embed implicitly
  Symbolic(double v) : q0_(to_rational(v)) {}  // NOLINT
  // 1/sqrt(v), v > 0. Atoms with the same id must carry the same v.
  static Symbolic inv_sqrt(std::int64_t id, const Rational& v);

  friend Symbolic operator+(const Symbolic& a, const Symbolic& b);
  friend Symbolic operator-(const Symbolic& a, const Symbolic& b);
  // Products of two different atoms never occur in the formulas; they throw.
  friend Symbolic operator*(const Symbolic& a, const Symbolic& b);

  // Exact test value == m. Atoms are grouped into classes whose ratios are
  // rational squares (so 1/sqrt(v_j) = rho * 1/sqrt(v_k), rho rational);
  // square roots of distinct square-free integers are linearly independent
  // over Q (Besicovitch), so value == m iff the rational part equals m and
  // every irrational class has coefficient 0.
  bool equals(const Rational& m) const;

 private:
  struct Term {
    std::int64_t id;
    Rational v;     // the atom is 1/sqrt(v)
    Rational coef;  // nonzero
  };
  Rational q0_;
  std::vector<Term> terms_;  // sorted by id

  void add_term(std::int64_t id, const Rational& v, const Rational& coef);
};

}  // namespace normcheck::reference::detail
