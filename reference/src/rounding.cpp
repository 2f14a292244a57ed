#include "rounding.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "mpfr_value.hpp"

namespace normcheck::reference::detail {

double canonical(double v) {
  if (std::isnan(v)) return std::numeric_limits<double>::quiet_NaN();
  return v == 0 ? 0.0 : v;
}

bool same_double(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

double round_exact(mpfr_srcptr v) {
  return canonical(mpfr_get_d(v, MPFR_RNDN));
}

double round_exact(const Rational& q) {
  // A rational that is not dyadic is never a rounding midpoint, so enclosing
  // it ever more tightly decides its rounding; a dyadic one becomes exact.
  for (mpfr_prec_t p = 128;; p *= 2) {
    MpfrValue lo(p), hi(p);
    const int t = mpfr_set_q(lo.get(), q.backend().data(), MPFR_RNDD);
    if (t == 0) return round_exact(lo.get());
    mpfr_set_q(hi.get(), q.backend().data(), MPFR_RNDU);
    const double a = round_exact(lo.get()), b = round_exact(hi.get());
    if (same_double(a, b)) return a;
    if (p > (mpfr_prec_t{1} << 24)) throw std::logic_error("round_exact: rational did not resolve");
  }
}

double next_result_up(double v) {
  if (v == 0) return std::numeric_limits<double>::denorm_min();
  const double n = std::nextafter(v, std::numeric_limits<double>::infinity());
  return n == 0 ? 0.0 : n;
}

Rational midpoint(double a, double b) {
  auto val = [](double v) {
    if (std::isinf(v)) {
      Rational r(1);
      mpq_mul_2exp(r.backend().data(), r.backend().data(), 1024);
      return v > 0 ? r : Rational(-r);
    }
    return to_rational(v);
  };
  return (val(a) + val(b)) / 2;
}

}  // namespace normcheck::reference::detail
