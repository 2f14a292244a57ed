// Exact conversions between the 16-bit storage formats (IEEE binary16 "f16"
// and bfloat16 "bf16") and f32/f64: widening is exact, narrowing rounds once
// to nearest, ties to even, with overflow to +-inf, gradual underflow to
// subnormals, and NaN kept NaN (quiet, sign preserved).
//
// Narrowing from f64 goes straight to 16 bits: rounding f64 -> f32 -> f16
// would round twice and can land one ulp off on a tie created by the first
// rounding.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace normcheck::numeric {

namespace detail {

// Rounds |v| (finite, > 0) to a binary format with `precision` significand
// bits (implicit bit included) and smallest normal exponent `min_exponent`,
// and returns the rounded value as a double. Every step is exact in double:
// scaling by powers of two and std::nearbyint in the default rounding mode
// (round to nearest even) are the only operations.
inline double round_to_format(double magnitude, int precision, int min_exponent) {
  int exponent = 0;
  std::frexp(magnitude, &exponent);  // magnitude = f * 2^exponent, f in [0.5, 1)
  int unit_exponent = exponent - 1;
  if (unit_exponent < min_exponent) unit_exponent = min_exponent;  // subnormal range
  const int quantum_exponent = unit_exponent - (precision - 1);
  const double scaled = std::ldexp(magnitude, -quantum_exponent);
  return std::ldexp(std::nearbyint(scaled), quantum_exponent);
}

// Encodes a double that is exactly representable in the 16-bit format (or
// has overflowed it) as the format's bits.
inline std::uint16_t encode16(bool negative, double magnitude, int mantissa_bits, int exponent_bits) {
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const int min_exponent = 1 - bias;
  const std::uint16_t sign = negative ? std::uint16_t(1u << 15) : std::uint16_t(0);
  const std::uint16_t infinity = std::uint16_t(((1u << exponent_bits) - 1u) << mantissa_bits);
  if (magnitude == 0.0) return sign;
  if (magnitude >= std::ldexp(1.0, bias + 1)) return std::uint16_t(sign | infinity);
  int exponent = 0;
  std::frexp(magnitude, &exponent);
  const int unit_exponent = exponent - 1;
  if (unit_exponent < min_exponent) {
    const auto mantissa = std::uint16_t(std::ldexp(magnitude, mantissa_bits - min_exponent));
    return std::uint16_t(sign | mantissa);
  }
  const auto significand = std::uint32_t(std::ldexp(magnitude, mantissa_bits - unit_exponent));
  const std::uint32_t mantissa = significand - (1u << mantissa_bits);
  const std::uint32_t biased = std::uint32_t(unit_exponent + bias);
  return std::uint16_t(sign | (biased << mantissa_bits) | mantissa);
}

// The general path: any double, by exact scaling (frexp/ldexp/nearbyint),
// about 15 ns a value. narrow16 sends it only what the integer path below
// does not cover; tests compare the two.
inline std::uint16_t narrow16_by_scaling(double v, int mantissa_bits, int exponent_bits) {
  const bool negative = std::signbit(v);
  const std::uint16_t sign = negative ? std::uint16_t(1u << 15) : std::uint16_t(0);
  const std::uint16_t infinity = std::uint16_t(((1u << exponent_bits) - 1u) << mantissa_bits);
  if (std::isnan(v)) return std::uint16_t(sign | infinity | (1u << (mantissa_bits - 1)));
  if (std::isinf(v)) return std::uint16_t(sign | infinity);
  const double magnitude = std::fabs(v);
  if (magnitude == 0.0) return sign;
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const double rounded = round_to_format(magnitude, mantissa_bits + 1, 1 - bias);
  return encode16(negative, rounded, mantissa_bits, exponent_bits);
}

// Results in the format's normal range (every value a backend stores but
// the tiniest) by integer rounding of the f64 bits, under 1 ns a value: the
// dropped significand bits round to nearest, ties to even, and a carry out
// of the significand moves into the exponent as it should, up to the
// infinity pattern past the largest finite value. Storing the dgamma/dbeta
// of an 8192x4096 bf16 backward (8192 values) took 125 us by scaling.
inline std::uint16_t narrow16(double v, int mantissa_bits, int exponent_bits) {
  const auto u = std::bit_cast<std::uint64_t>(v);
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const int exponent = int((u >> 52) & 0x7FFu) - 1023;  // NaN and inf: 1024
  if (exponent < 1 - bias || exponent > bias)
    return narrow16_by_scaling(v, mantissa_bits, exponent_bits);
  const int dropped = 52 - mantissa_bits;
  const std::uint64_t magnitude = u & ~(std::uint64_t(1) << 63);
  const std::uint64_t half_minus_one = (std::uint64_t(1) << (dropped - 1)) - 1;
  const std::uint64_t rounded =
      (magnitude + half_minus_one + ((magnitude >> dropped) & 1u)) >> dropped;
  const std::uint64_t rebias = std::uint64_t(1023 - bias) << mantissa_bits;
  const auto sign = std::uint16_t((u >> 48) & 0x8000u);
  return std::uint16_t(sign | std::uint16_t(rounded - rebias));
}

inline double widen16(std::uint16_t bits, int mantissa_bits, int exponent_bits) {
  const bool negative = (bits >> 15) != 0;
  const std::uint32_t exponent_field = (bits >> mantissa_bits) & ((1u << exponent_bits) - 1u);
  const std::uint32_t mantissa = bits & ((1u << mantissa_bits) - 1u);
  const int bias = (1 << (exponent_bits - 1)) - 1;
  double magnitude = 0.0;
  if (exponent_field == (1u << exponent_bits) - 1u) {
    magnitude = mantissa != 0 ? std::numeric_limits<double>::quiet_NaN()
                              : std::numeric_limits<double>::infinity();
  } else if (exponent_field == 0) {
    magnitude = std::ldexp(double(mantissa), 1 - bias - mantissa_bits);
  } else {
    magnitude = std::ldexp(double(mantissa | (1u << mantissa_bits)),
                           int(exponent_field) - bias - mantissa_bits);
  }
  return negative ? -magnitude : magnitude;
}

}  // namespace detail

// binary16: 1 sign, 5 exponent, 10 mantissa bits.
inline double f16_to_f64(std::uint16_t bits) { return detail::widen16(bits, 10, 5); }
inline float f16_to_f32(std::uint16_t bits) { return float(f16_to_f64(bits)); }  // exact
inline std::uint16_t f64_to_f16(double v) { return detail::narrow16(v, 10, 5); }
inline std::uint16_t f32_to_f16(float v) { return f64_to_f16(double(v)); }  // widening is exact

// bfloat16: the upper half of an f32 (1 sign, 8 exponent, 7 mantissa bits).
inline float bf16_to_f32(std::uint16_t bits) {
  return std::bit_cast<float>(std::uint32_t(bits) << 16);
}
inline double bf16_to_f64(std::uint16_t bits) { return double(bf16_to_f32(bits)); }
inline std::uint16_t f64_to_bf16(double v) { return detail::narrow16(v, 7, 8); }

// The usual bit trick (add 0x7FFF plus the lowest kept bit, truncate) is
// round-to-nearest-even for f32 -> bf16 and is what hot loops use.
inline std::uint16_t f32_to_bf16(float v) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(v);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return std::uint16_t((u >> 16) | 0x0040u);  // quiet NaN
  const std::uint32_t rounding = 0x7FFFu + ((u >> 16) & 1u);
  return std::uint16_t((u + rounding) >> 16);
}

}  // namespace normcheck::numeric
