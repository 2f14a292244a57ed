#include "certify_value.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "rounding.hpp"

namespace normcheck::reference::detail {

bool rounds_uniquely(const Interval& v, double& out) {
  if (v.has_nan()) return false;
  const double a = round_exact(v.lo()), b = round_exact(v.hi());
  if (!same_double(a, b)) return false;
  out = a;
  return true;
}

CertifiedValue certify_value(const std::function<Interval(mpfr_prec_t)>& enclose,
                             const std::function<Symbolic()>& exact, mpfr_prec_t first_bits,
                             mpfr_prec_t max_bits) {
  std::optional<Symbolic> sym;
  auto symbolic = [&]() -> const Symbolic& {
    if (!sym) sym = exact();
    return *sym;
  };
  bool zero_tested = false;
  std::optional<Rational> tested_boundary;
  double estimate = std::numeric_limits<double>::quiet_NaN();
  mpfr_prec_t bits = first_bits;
  for (; bits <= max_bits; bits *= 2) {
    const Interval v = enclose(bits);
    if (v.has_nan()) break;
    const double a = round_exact(v.lo()), b = round_exact(v.hi());
    if (same_double(a, b)) return {a, static_cast<int>(bits), true, false};
    {
      MpfrValue mid(bits + 1);
      mpfr_add(mid.get(), v.lo(), v.hi(), MPFR_RNDN);
      mpfr_div_2ui(mid.get(), mid.get(), 1, MPFR_RNDN);
      estimate = round_exact(mid.get());
    }
    if (v.contains_zero() && !zero_tested) {
      zero_tested = true;
      if (symbolic().equals(Rational(0))) return {0.0, static_cast<int>(bits), true, true};
    }
    if (same_double(next_result_up(a), b)) {  // one boundary between a and b
      Rational m = midpoint(a, b);
      if (!tested_boundary || *tested_boundary != m) {
        const bool hit = symbolic().equals(m);
        tested_boundary = std::move(m);
        if (hit) return {round_exact(*tested_boundary), static_cast<int>(bits), true, true};
      }
    }
  }
  return {estimate, static_cast<int>(std::min(bits, max_bits)), false, false};
}

}  // namespace normcheck::reference::detail
