#pragma once
// A double-word midpoint with a rigorous radius: the exact value lies in
// [v - rad, v + rad]. Radii are computed in double and inflated by
// kInflate, which covers the relative error of the handful of roundings in
// each radius formula and the |hi| vs |hi + lo| slack (both below 2^-50);
// kEta covers underflow in a product (each subnormal rounding errs by at most
// 2^-1075 absolute, and a double-word product has fewer than 2^10 of them).

#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>

#include "double_word.hpp"

namespace normcheck::reference::detail {

struct Ball {
  DW v;
  double rad = 0;
};

inline constexpr double kU2 = 0x1p-106;  // u^2, u = 2^-53
inline constexpr double kInflate = 1 + 0x1p-40;
inline constexpr double kEta = 0x1p-1060;
// Error bounds used, each at least the proven one rounded up (see double_word.hpp).
inline constexpr double kAddDW = 4 * kU2;  // 3u^2 + 13u^3
inline constexpr double kAddFP = 3 * kU2;  // 2u^2
inline constexpr double kMulDW = 8 * kU2;  // 7u^2
inline constexpr double kMulFP = 2 * kU2;  // 1.5u^2 + 4u^3

inline Ball exact_ball(double x) {
  return {{x, 0}, 0};
}
inline Ball exact_ball(const DW& x) {
  return {x, 0};
}

inline bool is_exact_zero(const Ball& a) {
  return a.v.hi == 0 && a.rad == 0;
}

inline Ball operator+(const Ball& a, const Ball& b) {
  const DW s = dw_add(a.v, b.v);
  return {s, (a.rad + b.rad + std::abs(s.hi) * kAddDW) * kInflate};
}

inline Ball operator-(const Ball& a, const Ball& b) {
  return a + Ball{dw_neg(b.v), b.rad};
}

inline Ball operator+(const Ball& a, double b) {
  const DW s = dw_add(a.v, b);
  return {s, (a.rad + std::abs(s.hi) * kAddFP) * kInflate};
}

inline Ball operator*(const Ball& a, const Ball& b) {
  if (is_exact_zero(a) || is_exact_zero(b)) return exact_ball(0.0);
  const DW p = dw_mul(a.v, b.v);
  const double r =
      std::abs(a.v.hi) * b.rad + std::abs(b.v.hi) * a.rad + a.rad * b.rad + std::abs(p.hi) * kMulDW;
  return {p, r * kInflate + kEta};
}

inline Ball operator*(const Ball& a, double b) {
  if (is_exact_zero(a) || b == 0) return exact_ball(0.0);
  const DW p = dw_mul(a.v, b);
  return {p, (std::abs(b) * a.rad + std::abs(p.hi) * kMulFP) * kInflate + kEta};
}

// Distance from |c| to the next double above / below in magnitude (|c| > 0,
// finite, below DBL_MAX): exact differences of neighbours.
inline double ulp_above(double a) {
  return std::bit_cast<double>(std::bit_cast<std::uint64_t>(a) + 1) - a;
}
inline double ulp_below(double a) {
  return a - std::bit_cast<double>(std::bit_cast<std::uint64_t>(a) - 1);
}

// The double every point of the ball rounds to, if there is one. The ball
// must lie strictly inside the rounding interval of c = v.hi (which is
// RN(v.hi + v.lo) for a normalized double word): lo + rad < half the gap
// above and lo - rad > -(half the gap below). RN is monotone and the half
// gaps are powers of two, so comparing the rounded sums is rigorous. Values
// near underflow or overflow are left to the MPFR path.
inline std::optional<double> certify(const Ball& b) {
  const double c = b.v.hi, lo = b.v.lo, r = b.rad;
  if (!std::isfinite(c) || !std::isfinite(lo) || !std::isfinite(r)) return std::nullopt;
  const double a = std::abs(c);
  if (a < 0x1p-1000 || a > 0x1p1000) {
    if (c == 0 && lo == 0 && r == 0) return 0.0;
    return std::nullopt;
  }
  const double gap_up = c > 0 ? ulp_above(a) : ulp_below(a);
  const double gap_down = c > 0 ? ulp_below(a) : ulp_above(a);
  if (lo + r < 0.5 * gap_up && lo - r > -0.5 * gap_down) return c;
  return std::nullopt;
}

}  // namespace normcheck::reference::detail
