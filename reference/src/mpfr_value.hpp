#pragma once
// RAII owner of one mpfr_t. The rigorous path needs MPFR's directed rounding
// and exact-precision control, which Boost's wrapper does not expose.

#include <mpfr.h>

#include <utility>

namespace normcheck::reference::detail {

class MpfrValue {
 public:
  explicit MpfrValue(mpfr_prec_t prec) { mpfr_init2(v_, prec); }
  MpfrValue(const MpfrValue& o) {
    mpfr_init2(v_, mpfr_get_prec(o.v_));
    mpfr_set(v_, o.v_, MPFR_RNDN);  // same precision: exact
  }
  MpfrValue(MpfrValue&& o) noexcept {
    mpfr_init2(v_, MPFR_PREC_MIN);
    mpfr_swap(v_, o.v_);
  }
  MpfrValue& operator=(const MpfrValue& o) {
    if (this != &o) {
      mpfr_set_prec(v_, mpfr_get_prec(o.v_));
      mpfr_set(v_, o.v_, MPFR_RNDN);
    }
    return *this;
  }
  MpfrValue& operator=(MpfrValue&& o) noexcept {
    mpfr_swap(v_, o.v_);
    return *this;
  }
  ~MpfrValue() { mpfr_clear(v_); }

  mpfr_ptr get() { return v_; }
  mpfr_srcptr get() const { return v_; }
  mpfr_prec_t prec() const { return mpfr_get_prec(v_); }

 private:
  mpfr_t v_;
};

}  // namespace normcheck::reference::detail
