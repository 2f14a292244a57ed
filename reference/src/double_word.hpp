#pragma once
// Double-word ("double-double") arithmetic: the value hi + lo with
// |lo| <= ulp(hi)/2. Error-free transforms are exact; the compound operations
// are those of Joldes, Muller, Popescu, "Tight and rigorous error bounds for
// basic building blocks of double-word arithmetic", ACM TOMS 44(2), 2017,
// with their proven relative error bounds (u = 2^-53), all assuming no
// underflow/overflow. The project compiles in ISO mode (-ffp-contract=off),
// so none of these expressions is silently fused.

#include <cmath>

namespace normcheck::reference::detail {

struct DW {
  double hi = 0, lo = 0;
};

inline DW two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}

// Requires exponent(a) >= exponent(b) (e.g. |a| >= |b|).
inline DW fast_two_sum(double a, double b) {
  const double s = a + b;
  return {s, b - (s - a)};
}

// a * b exactly, barring underflow of the error term and overflow.
inline DW two_prod(double a, double b) {
  const double p = a * b;
#if defined(__FMA__)
  return {p, std::fma(a, b, -p)};
#else
  // Dekker's product with Veltkamp splitting: exact without an FMA
  // instruction (a libm fma call would cost more than these 17 flops).
  constexpr double kSplit = 134217729.0;  // 2^27 + 1
  const double ta = kSplit * a, ah = ta - (ta - a), al = a - ah;
  const double tb = kSplit * b, bh = tb - (tb - b), bl = b - bh;
  return {p, ((ah * bh - p) + ah * bl + al * bh) + al * bl};
#endif
}

// Algorithm 4 (DWPlusFP): relative error <= 2u^2.
inline DW dw_add(const DW& x, double y) {
  const DW s = two_sum(x.hi, y);
  return fast_two_sum(s.hi, x.lo + s.lo);
}

// Algorithm 6 (AccurateDWPlusDW): relative error <= 3u^2 + 13u^3.
inline DW dw_add(const DW& x, const DW& y) {
  const DW s = two_sum(x.hi, y.hi);
  const DW t = two_sum(x.lo, y.lo);
  const DW v = fast_two_sum(s.hi, s.lo + t.hi);
  return fast_two_sum(v.hi, t.lo + v.lo);
}

inline DW dw_neg(const DW& x) {
  return {-x.hi, -x.lo};
}

// Algorithm 7 (DWTimesFP1): relative error <= 1.5u^2 + 4u^3.
inline DW dw_mul(const DW& x, double y) {
  const DW c = two_prod(x.hi, y);
  const DW t = fast_two_sum(c.hi, x.lo * y);
  return fast_two_sum(t.hi, t.lo + c.lo);
}

// Algorithm 10 (DWTimesDW1): relative error <= 7u^2.
inline DW dw_mul(const DW& x, const DW& y) {
  const DW c = two_prod(x.hi, y.hi);
  const double cl3 = c.lo + (x.hi * y.lo + x.lo * y.hi);
  return fast_two_sum(c.hi, cl3);
}

}  // namespace normcheck::reference::detail
