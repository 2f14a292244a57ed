#include "rational.hpp"

#include <stdexcept>

namespace normcheck::reference::detail {

Rational to_rational(double v) {
  // mpq_set_d is exact for finite doubles.
  return Rational(v);
}

Rational to_rational(mpfr_srcptr v) {
  if (!mpfr_number_p(v)) throw std::logic_error("to_rational: non-finite MPFR value");
  if (mpfr_zero_p(v)) return Rational(0);
  Integer m;
  const mpfr_exp_t e = mpfr_get_z_2exp(m.backend().data(), v);
  Rational r(m);
  if (e >= 0) {
    mpq_mul_2exp(r.backend().data(), r.backend().data(), static_cast<mp_bitcnt_t>(e));
  } else {
    mpq_div_2exp(r.backend().data(), r.backend().data(), static_cast<mp_bitcnt_t>(-e));
  }
  return r;
}

std::optional<Rational> rational_sqrt(const Rational& v) {
  if (v < 0) return std::nullopt;
  const Integer n = numerator(v), d = denominator(v);
  if (!mpz_perfect_square_p(n.backend().data()) || !mpz_perfect_square_p(d.backend().data()))
    return std::nullopt;
  Integer rn, rd;
  mpz_sqrt(rn.backend().data(), n.backend().data());
  mpz_sqrt(rd.backend().data(), d.backend().data());
  return Rational(rn, rd);
}

}  // namespace normcheck::reference::detail
