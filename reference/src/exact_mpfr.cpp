#include "exact_mpfr.hpp"

#include <algorithm>
#include <stdexcept>

namespace normcheck::reference::detail {

MpfrValue exact_int(std::int64_t n) {
  MpfrValue r(64);
  mpfr_set_sj(r.get(), n, MPFR_RNDN);  // 64 bits hold any int64
  return r;
}

MpfrValue exact_mul(const MpfrValue& a, const MpfrValue& b) {
  MpfrValue r(a.prec() + b.prec());  // product of p- and q-bit significands fits p+q bits
  if (mpfr_mul(r.get(), a.get(), b.get(), MPFR_RNDN) != 0)
    throw std::logic_error("exact_mul: inexact");
  return r;
}

bool is_zero(const MpfrValue& a) {
  return mpfr_zero_p(a.get()) != 0;
}

MpfrValue exact_sub(const MpfrValue& a, const MpfrValue& b) {
  if (is_zero(b)) return a;
  if (is_zero(a)) {
    MpfrValue r(b.prec());
    mpfr_neg(r.get(), b.get(), MPFR_RNDN);
    return r;
  }
  // Bits from the lowest set position of either operand up to one above the
  // highest (a carry) hold the exact difference.
  const mpfr_exp_t ea = mpfr_get_exp(a.get()), eb = mpfr_get_exp(b.get());
  const mpfr_exp_t top = std::max(ea, eb) + 1;
  const mpfr_exp_t bottom = std::min(ea - a.prec(), eb - b.prec());
  MpfrValue r(static_cast<mpfr_prec_t>(top - bottom));
  if (mpfr_sub(r.get(), a.get(), b.get(), MPFR_RNDN) != 0)
    throw std::logic_error("exact_sub: inexact");
  return r;
}

}  // namespace normcheck::reference::detail
