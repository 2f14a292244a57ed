#pragma once
// Exact sum of finite doubles (a "long accumulator"): the value is kept as
// signed 32-bit digits in int64 slots spanning every double exponent, so
// adding never rounds. Carries are resolved lazily: a slot absorbs at most
// 2^31 digits before it could overflow, so they are normalized every 2^30 adds.

#include <array>
#include <bit>
#include <cstdint>

#include "double_word.hpp"
#include "mpfr_value.hpp"
#include "rational.hpp"

namespace normcheck::reference::detail {

// The domain of the exact fast sums: zero or |v| in [2^-300, 2^300]. There,
// products of up to three such values (and of the error terms of two-sums
// and two-products of them) neither overflow nor lose bits to underflow, so
// every TwoProduct below is exact. NaN and inf are outside.
inline bool in_exact_domain(double v) {
  if (v == 0) return true;
  const double a = v < 0 ? -v : v;
  return a >= 0x1p-300 && a <= 0x1p300;
}

class ExactSum {
 public:
  // v finite.
  void add(double v) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    int e = static_cast<int>((bits >> 52) & 0x7ff);
    std::uint64_t m = bits & ((std::uint64_t{1} << 52) - 1);
    if (e == 0) {
      if (m == 0) return;
      e = 1;  // subnormal: m * 2^-1074
    } else {
      m |= std::uint64_t{1} << 52;
    }
    // v = m * 2^(e - 1075); bit 0 of the accumulator weighs 2^-1074.
    const int b = e - 1;
    const int k = b >> 5, s = b & 31;
    const auto neg = static_cast<std::int64_t>(bits >> 63);
    const std::int64_t sign = 1 - 2 * neg;
    slot_[k] += sign * static_cast<std::int64_t>((m << s) & 0xffffffffu);
    slot_[k + 1] += sign * static_cast<std::int64_t>((m >> (32 - s)) & 0xffffffffu);
    slot_[k + 2] += sign * static_cast<std::int64_t>((m >> (63 - s)) >> 1);
    if (k < lo_) lo_ = k;
    if (k + 2 > hi_) hi_ = k + 2;
    if (++adds_ == (1 << 30)) carry();
  }
  // a * b exactly, as p + e (TwoProduct). Precondition: the product's error
  // term does not underflow and p does not overflow (|a|, |b| in the
  // rigorous path's range guarantee it).
  void add_product(double a, double b) {
    const DW p = two_prod(a, b);
    add(p.hi);
    add(p.lo);
  }
  void add(const ExactSum& o);

  bool is_zero() const;
  MpfrValue to_mpfr() const;  // exact: precision = bits needed
  Rational to_rational() const;

 private:
  static constexpr int kSlots = 70;  // 2^-1074 .. beyond 2^1024 * 2^40 terms
  std::array<std::int64_t, kSlots> slot_{};
  int lo_ = kSlots, hi_ = -1;
  int adds_ = 0;

  void carry();
};

}  // namespace normcheck::reference::detail
