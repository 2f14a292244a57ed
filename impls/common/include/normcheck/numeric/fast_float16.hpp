// Fast exact conversions between f32 and the 16-bit storage formats, for hot
// loops. They give the same bits as the reference conversions in
// float16.hpp (round to nearest even, gradual underflow, overflow to inf,
// NaN kept NaN) but use only integer and float operations without branches,
// so one template serves scalars (U = uint32_t, F = float) and GCC vector
// types (U = 16 x uint32_t, F = 16 x float) in the cpu backend's SIMD loops.
//
// They assume the default floating-point environment: round to nearest and
// subnormals not flushed (no DAZ/FTZ), as every normcheck process runs.
#pragma once

#include <bit>
#include <cstdint>

namespace normcheck::numeric::fast {

// U with every lane set to v (works for scalars and vector types alike).
template <class U>
inline U splat_like(U like, std::uint32_t v) {
  return (like & 0u) | v;
}

// h: f16 bit patterns held in 32-bit lanes.
template <class U, class F>
inline F f16_bits_to_f32(U h) {
  const U sign = (h & 0x8000u) << 16;
  const U magnitude = h & 0x7fffu;
  // Shifting the exponent and mantissa into f32 position and multiplying by
  // 2^(127 - 15) re-biases the exponent; the product is exact for normal and
  // subnormal f16 values alike (a subnormal f16 becomes a subnormal f32
  // first, which the multiplication normalizes).
  const F rebased = std::bit_cast<F>(magnitude << 13) * 0x1p112f;
  const U finite = std::bit_cast<U>(rebased);
  const U special = (magnitude << 13) | 0x7f800000u;  // inf, or NaN with its payload
  const U bits = magnitude >= 0x7c00u ? special : finite;
  return std::bit_cast<F>(bits | sign);
}

// Returns f16 bit patterns in 32-bit lanes.
template <class U, class F>
inline U f32_to_f16_bits(F f) {
  const U u = std::bit_cast<U>(f);
  const U sign = (u >> 16) & 0x8000u;
  const U a = u & 0x7fffffffu;
  // |f| < 2^-14 (f16 subnormal or zero): adding 0.5 rounds |f| to a multiple
  // of 2^-24 (the ulp of f32 on [0.5, 1) equals the f16 subnormal quantum),
  // to nearest even, in one IEEE addition; the low bits of the sum are the
  // f16 mantissa, and a carry to 2^-14 encodes the smallest normal.
  const U subnormal = std::bit_cast<U>(std::bit_cast<F>(a) + 0.5f) - 0x3f000000u;
  // Normal: re-bias the exponent by -112 (0xC8000000 is -(112 << 23) mod
  // 2^32) and round the 13 dropped bits to nearest even.
  const U normal = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;
  U bits = a < 0x38800000u ? subnormal : normal;
  bits = a >= 0x477ff000u ? splat_like(u, 0x7c00u) : bits;  // >= 65520 rounds to inf
  bits = a > 0x7f800000u ? splat_like(u, 0x7e00u) : bits;   // NaN -> quiet NaN
  return bits | sign;
}

template <class U, class F>
inline F bf16_bits_to_f32(U h) {
  return std::bit_cast<F>(h << 16);
}

template <class U, class F>
inline U f32_to_bf16_bits(F f) {
  const U u = std::bit_cast<U>(f);
  const U rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const U quiet_nan = (u >> 16) | 0x40u;
  return (u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded;
}

// Scalar forms.
inline float f16_to_f32(std::uint16_t h) {
  return f16_bits_to_f32<std::uint32_t, float>(h);
}
inline std::uint16_t f32_to_f16(float f) {
  return std::uint16_t(f32_to_f16_bits<std::uint32_t, float>(f));
}
inline float bf16_to_f32(std::uint16_t h) {
  return bf16_bits_to_f32<std::uint32_t, float>(h);
}
inline std::uint16_t f32_to_bf16(float f) {
  return std::uint16_t(f32_to_bf16_bits<std::uint32_t, float>(f));
}

}  // namespace normcheck::numeric::fast
