#pragma once
// Rigorous certification of one value from an interval evaluation at any
// precision and, on demand, its exact symbolic form.

#include <functional>

#include "interval.hpp"
#include "symbolic.hpp"

namespace normcheck::reference::detail {

struct CertifiedValue {
  double value = 0;
  int bits = 0;  // precision that settled it
  bool certified = false;
  bool exact = false;  // settled by an exact comparison
};

inline constexpr mpfr_prec_t kFallbackFirstBits = 256;
inline constexpr mpfr_prec_t kFallbackMaxBits = 8192;

// Encloses the value at rising precision until both ends round to the same
// double. When the enclosure straddles exactly one rounding boundary (or
// zero), the exact form decides whether the value IS that boundary: then its
// rounding is known (ties to even); otherwise more precision must separate
// them. Values still undecided at max_bits come back uncertified.
CertifiedValue certify_value(const std::function<Interval(mpfr_prec_t)>& enclose,
                             const std::function<Symbolic()>& exact,
                             mpfr_prec_t first_bits = kFallbackFirstBits,
                             mpfr_prec_t max_bits = kFallbackMaxBits);

// The rounding of an enclosure, when both ends agree.
bool rounds_uniquely(const Interval& v, double& out);

}  // namespace normcheck::reference::detail
