#pragma once
// Closed intervals [lo, hi] of MPFR numbers with outward (directed) rounding:
// the exact value of anything computed from exact inputs lies inside. Used to
// certify values the double-word path could not, at rising precision.

#include "mpfr_value.hpp"
#include "rational.hpp"

namespace normcheck::reference::detail {

class Interval {
 public:
  explicit Interval(mpfr_prec_t prec) : lo_(prec), hi_(prec) {
    mpfr_set_zero(lo_.get(), 1);
    mpfr_set_zero(hi_.get(), 1);
  }
  static Interval point(double v, mpfr_prec_t prec);             // exact (prec >= 53)
  static Interval enclose(mpfr_srcptr exact, mpfr_prec_t prec);  // outward rounded
  static Interval enclose(const Rational& q, mpfr_prec_t prec);

  mpfr_prec_t prec() const { return lo_.prec(); }
  mpfr_srcptr lo() const { return lo_.get(); }
  mpfr_srcptr hi() const { return hi_.get(); }
  mpfr_ptr lo() { return lo_.get(); }
  mpfr_ptr hi() { return hi_.get(); }
  bool has_nan() const { return mpfr_nan_p(lo_.get()) || mpfr_nan_p(hi_.get()); }
  bool contains_zero() const { return mpfr_sgn(lo_.get()) <= 0 && mpfr_sgn(hi_.get()) >= 0; }

 private:
  MpfrValue lo_, hi_;
};

Interval operator+(const Interval& a, const Interval& b);
Interval operator-(const Interval& a, const Interval& b);
Interval operator*(const Interval& a, const Interval& b);
// a / b for b > 0 (an interval strictly above zero).
Interval div_positive(const Interval& a, const Interval& b);
// 1 / sqrt(v) for v >= 0; +inf where v touches 0.
Interval rec_sqrt(const Interval& v);

}  // namespace normcheck::reference::detail
