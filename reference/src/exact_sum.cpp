#include "exact_sum.hpp"

#include <algorithm>

namespace normcheck::reference::detail {

void ExactSum::carry() {
  if (hi_ < 0) return;
  // Arithmetic shift floors, so every digit but the top one ends in [0, 2^32)
  // and the top slot carries the sign of the whole sum.
  for (int k = lo_; k < kSlots - 1; ++k) {
    const std::int64_t c = slot_[k] >> 32;
    slot_[k] -= c * (std::int64_t{1} << 32);
    slot_[k + 1] += c;
  }
  hi_ = kSlots - 1;
  while (hi_ > lo_ && slot_[hi_] == 0) --hi_;
  adds_ = 0;
}

void ExactSum::add(const ExactSum& o) {
  if (o.hi_ < 0) return;
  carry();
  ExactSum t = o;
  t.carry();
  for (int k = t.lo_; k <= t.hi_; ++k) slot_[k] += t.slot_[k];
  lo_ = std::min(lo_, t.lo_);
  hi_ = std::max(hi_, t.hi_);
  carry();
}

bool ExactSum::is_zero() const {
  ExactSum t = *this;
  t.carry();
  for (int k = 0; k < kSlots; ++k)
    if (t.slot_[k] != 0) return false;
  return true;
}

MpfrValue ExactSum::to_mpfr() const {
  ExactSum t = *this;
  t.carry();
  Integer z = 0;
  int top = t.hi_;
  while (top >= 0 && t.slot_[top] == 0) --top;
  if (top < 0) {
    MpfrValue r(2);
    mpfr_set_zero(r.get(), 1);
    return r;
  }
  for (int k = top; k >= t.lo_; --k) {
    mpz_mul_2exp(z.backend().data(), z.backend().data(), 32);
    z += t.slot_[k];  // digits in [0, 2^32); the top one carries the sign
  }
  const auto bits = static_cast<mpfr_prec_t>(mpz_sizeinbase(z.backend().data(), 2));
  MpfrValue r(std::max<mpfr_prec_t>(bits, MPFR_PREC_MIN));
  mpfr_set_z_2exp(r.get(), z.backend().data(), 32 * t.lo_ - 1074, MPFR_RNDN);  // exact
  return r;
}

Rational ExactSum::to_rational() const {
  return detail::to_rational(to_mpfr().get());
}

}  // namespace normcheck::reference::detail
