#include "interval.hpp"

#include <algorithm>
#include <stdexcept>

namespace normcheck::reference::detail {

namespace {
mpfr_prec_t joint(const Interval& a, const Interval& b) {
  return std::max(a.prec(), b.prec());
}

Interval nan_interval(mpfr_prec_t p) {
  Interval r(p);
  mpfr_set_nan(r.lo());
  mpfr_set_nan(r.hi());
  return r;
}
}  // namespace

Interval Interval::point(double v, mpfr_prec_t prec) {
  Interval r(std::max<mpfr_prec_t>(prec, 53));
  mpfr_set_d(r.lo(), v, MPFR_RNDN);  // exact: 53 bits fit
  mpfr_set_d(r.hi(), v, MPFR_RNDN);
  return r;
}

Interval Interval::enclose(mpfr_srcptr exact, mpfr_prec_t prec) {
  Interval r(prec);
  mpfr_set(r.lo(), exact, MPFR_RNDD);
  mpfr_set(r.hi(), exact, MPFR_RNDU);
  return r;
}

Interval Interval::enclose(const Rational& q, mpfr_prec_t prec) {
  Interval r(prec);
  mpfr_set_q(r.lo(), q.backend().data(), MPFR_RNDD);
  mpfr_set_q(r.hi(), q.backend().data(), MPFR_RNDU);
  return r;
}

Interval operator+(const Interval& a, const Interval& b) {
  Interval r(joint(a, b));
  mpfr_add(r.lo(), a.lo(), b.lo(), MPFR_RNDD);
  mpfr_add(r.hi(), a.hi(), b.hi(), MPFR_RNDU);
  return r;
}

Interval operator-(const Interval& a, const Interval& b) {
  Interval r(joint(a, b));
  mpfr_sub(r.lo(), a.lo(), b.hi(), MPFR_RNDD);
  mpfr_sub(r.hi(), a.hi(), b.lo(), MPFR_RNDU);
  return r;
}

Interval operator*(const Interval& a, const Interval& b) {
  const mpfr_prec_t p = joint(a, b);
  if (a.has_nan() || b.has_nan()) return nan_interval(p);
  Interval r(p);
  if (mpfr_sgn(a.lo()) >= 0 && mpfr_sgn(b.lo()) >= 0) {  // the common case: both >= 0
    mpfr_mul(r.lo(), a.lo(), b.lo(), MPFR_RNDD);
    mpfr_mul(r.hi(), a.hi(), b.hi(), MPFR_RNDU);
  } else {
    // Extremes of a bilinear function sit at corners; each corner is rounded
    // down for the lower end and up for the upper end.
    MpfrValue t(p);
    mpfr_srcptr as[2] = {a.lo(), a.hi()};
    mpfr_srcptr bs[2] = {b.lo(), b.hi()};
    bool first = true;
    for (mpfr_srcptr x : as)
      for (mpfr_srcptr y : bs) {
        mpfr_mul(t.get(), x, y, MPFR_RNDD);
        if (mpfr_nan_p(t.get())) return nan_interval(p);  // 0 * inf
        if (first || mpfr_less_p(t.get(), r.lo())) mpfr_set(r.lo(), t.get(), MPFR_RNDD);
        mpfr_mul(t.get(), x, y, MPFR_RNDU);
        if (first || mpfr_greater_p(t.get(), r.hi())) mpfr_set(r.hi(), t.get(), MPFR_RNDU);
        first = false;
      }
  }
  if (r.has_nan()) return nan_interval(p);
  return r;
}

Interval div_positive(const Interval& a, const Interval& b) {
  const mpfr_prec_t p = joint(a, b);
  if (a.has_nan() || b.has_nan() || mpfr_sgn(b.lo()) <= 0) return nan_interval(p);
  Interval r(p);
  // Dividing by b > 0: the lower end uses the larger divisor when a.lo >= 0.
  mpfr_div(r.lo(), a.lo(), mpfr_sgn(a.lo()) >= 0 ? b.hi() : b.lo(), MPFR_RNDD);
  mpfr_div(r.hi(), a.hi(), mpfr_sgn(a.hi()) >= 0 ? b.lo() : b.hi(), MPFR_RNDU);
  return r;
}

Interval rec_sqrt(const Interval& v) {
  if (v.has_nan() || mpfr_sgn(v.lo()) < 0) return nan_interval(v.prec());
  Interval r(v.prec());
  // Decreasing: the lower end comes from the upper end of v.
  mpfr_rec_sqrt(r.lo(), v.hi(), MPFR_RNDD);
  mpfr_rec_sqrt(r.hi(), v.lo(), MPFR_RNDU);  // rec_sqrt(+0) = +inf
  return r;
}

}  // namespace normcheck::reference::detail
