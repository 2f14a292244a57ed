// Every one of the 65,536 bit patterns of f16 and bf16, in both directions.
// Tolerance: none. Conversions are exact or correctly rounded, so every
// check is bit equality.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "normcheck/numeric/dtype.hpp"
#include "normcheck/numeric/float16.hpp"

using namespace normcheck::numeric;

namespace {

bool is_nan16(std::uint16_t bits, int mantissa_bits) {
  const std::uint16_t exp_mask = std::uint16_t(0x7FFFu & ~((1u << mantissa_bits) - 1u));
  return (bits & exp_mask) == exp_mask && (bits & ((1u << mantissa_bits) - 1u)) != 0;
}

// Oracle independent of the code under test: GCC's _Float16 conversions
// (libgcc's __truncdfhf2 / __truncsfhf2, or F16C), correctly rounded.
std::uint16_t f16_bits_of(_Float16 h) { return std::bit_cast<std::uint16_t>(h); }

}  // namespace

TEST_CASE("f16 widening is exact and narrowing gives every pattern back", "[float16]") {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = std::uint16_t(b);
    const double wide = f16_to_f64(bits);
    const _Float16 oracle = std::bit_cast<_Float16>(bits);
    if (is_nan16(bits, 10)) {
      REQUIRE(std::isnan(wide));
      REQUIRE(std::isnan(f16_to_f32(bits)));
      REQUIRE(is_nan16(f64_to_f16(wide), 10));
      continue;
    }
    REQUIRE(wide == double(oracle));
    REQUIRE(std::signbit(wide) == ((bits >> 15) != 0));
    REQUIRE(f64_to_f16(wide) == bits);
    REQUIRE(f32_to_f16(float(wide)) == bits);
  }
}

TEST_CASE("f16 narrowing rounds to nearest even, matching an independent oracle", "[float16]") {
  // Probe each gap between consecutive positive f16 values at its midpoint
  // (ties to even) and one f64 ulp either side of it (nearest), plus the
  // overflow threshold 65520 (midpoint of 65504 and 2^16, odd -> inf).
  for (std::uint32_t b = 0; b < 0x7C00; ++b) {
    const double lo = f16_to_f64(std::uint16_t(b));
    const double hi = f16_to_f64(std::uint16_t(b + 1));
    const double mid = lo + (hi - lo) / 2;  // exact: the gap is a power of two
    for (double sign : {1.0, -1.0}) {
      for (double v : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, std::numeric_limits<double>::infinity())}) {
        const double probe = sign * v;
        REQUIRE(f64_to_f16(probe) == f16_bits_of(_Float16(probe)));
        const auto as_float = float(probe);
        REQUIRE(f32_to_f16(as_float) == f16_bits_of(_Float16(as_float)));
      }
    }
  }
  CHECK(f64_to_f16(65519.99) == 0x7BFF);
  CHECK(f64_to_f16(65520.0) == 0x7C00);
  CHECK(f64_to_f16(-1e300) == 0xFC00);
  CHECK(f64_to_f16(std::ldexp(1.0, -25)) == 0x0000);                     // tie -> even 0
  CHECK(f64_to_f16(std::nextafter(std::ldexp(1.0, -25), 1.0)) == 0x0001);  // above tie
  CHECK(f64_to_f16(3 * std::ldexp(1.0, -25)) == 0x0002);                   // tie 1.5 -> 2
  CHECK(f64_to_f16(-0.0) == 0x8000);
}

TEST_CASE("f64 -> f16 rounds once, not through f32", "[float16]") {
  // 1 + 2^-11 + 2^-40 lies just above the f16 tie between 1 and 1 + 2^-10;
  // rounding to f32 first erases the 2^-40 and leaves an exact tie that goes
  // to even (1.0). Rounding once gives 1 + 2^-10.
  const double v = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  CHECK(f64_to_f16(v) == 0x3C01);
  CHECK(f32_to_f16(float(v)) == 0x3C00);
}

TEST_CASE("bf16 widening is exact and narrowing gives every pattern back", "[bfloat16]") {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = std::uint16_t(b);
    const float wide = bf16_to_f32(bits);
    REQUIRE(std::bit_cast<std::uint32_t>(wide) == (b << 16));
    if (is_nan16(bits, 7)) {
      REQUIRE(std::isnan(wide));
      REQUIRE(is_nan16(f32_to_bf16(wide), 7));
      REQUIRE(is_nan16(f64_to_bf16(double(wide)), 7));
      continue;
    }
    REQUIRE(f32_to_bf16(wide) == bits);
    REQUIRE(f64_to_bf16(double(wide)) == bits);
  }
}

TEST_CASE("bf16 narrowing rounds to nearest even at every gap", "[bfloat16]") {
  // The f32 neighbours of each bf16 midpoint are f32 values, so both the
  // f32 bit trick and the f64 path are probed there; the expected result is
  // decided from the pattern's parity, not from either implementation.
  for (std::uint32_t b = 0; b < 0x7F7F; ++b) {  // the last gap, max..inf, is checked below
    const double lo = bf16_to_f64(std::uint16_t(b));
    const double hi = bf16_to_f64(std::uint16_t(b + 1));
    const double mid = lo + (hi - lo) / 2;
    const auto lo_bits = std::uint16_t(b), hi_bits = std::uint16_t(b + 1);
    const std::uint16_t tie = (b & 1u) == 0 ? lo_bits : hi_bits;
    for (double sign : {1.0, -1.0}) {
      const std::uint16_t s = sign < 0 ? 0x8000 : 0;
      REQUIRE(f64_to_bf16(sign * mid) == std::uint16_t(tie | s));
      REQUIRE(f32_to_bf16(float(sign * mid)) == std::uint16_t(tie | s));
      const float below = std::nextafter(float(mid), 0.0f);
      const float above = std::nextafter(float(mid), std::numeric_limits<float>::infinity());
      REQUIRE(f32_to_bf16(float(sign) * below) == std::uint16_t(lo_bits | s));
      REQUIRE(f32_to_bf16(float(sign) * above) == std::uint16_t(hi_bits | s));
      REQUIRE(f64_to_bf16(sign * double(below)) == std::uint16_t(lo_bits | s));
      REQUIRE(f64_to_bf16(sign * double(above)) == std::uint16_t(hi_bits | s));
    }
  }
  CHECK(f32_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);  // tie past max -> inf
  CHECK(f32_to_bf16(std::numeric_limits<float>::infinity()) == 0x7F80);
}

TEST_CASE("f64 -> bf16 rounds once, not through f32", "[bfloat16]") {
  // 1 + 2^-8 + 2^-40 lies just above the bf16 tie between 1 and 1 + 2^-7;
  // through f32 the 2^-40 is lost and the exact tie goes to even (1.0).
  const double v = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40);
  CHECK(f64_to_bf16(v) == 0x3F81);
  CHECK(f32_to_bf16(float(v)) == 0x3F80);
}

TEST_CASE("f64 narrowing by integer rounding matches the scaling path on every binade",
          "[float16][bfloat16]") {
  // narrow16 rounds normal-range results with integer operations and sends
  // the rest to narrow16_by_scaling; the other cases here check both against
  // oracles at every gap, this one sweeps f64 values the gap probes do not
  // make: random significands (all 52 bits) in every binade from far below
  // the subnormals to past overflow, and significands one f64 ulp from a
  // tie. Exact: bit equality.
  std::mt19937_64 rng(20261205);
  for (const auto& [mantissa_bits, exponent_bits] : {std::pair{10, 5}, std::pair{7, 8}}) {
    const int bias = (1 << (exponent_bits - 1)) - 1;
    const int dropped = 52 - mantissa_bits;
    for (int exponent = -bias - mantissa_bits - 3; exponent <= bias + 2; ++exponent)
      for (int k = 0; k < 200; ++k) {
        // k % 4: random, a tie, one f64 ulp above it, one below.
        const std::uint64_t half = std::uint64_t(1) << (dropped - 1);
        const std::uint64_t kept = (rng() & ((std::uint64_t(1) << 52) - 1)) & ~(2 * half - 1);
        const std::uint64_t low[] = {rng() & (2 * half - 1), half, half + 1, half - 1};
        const std::uint64_t significand = kept | low[k % 4];
        const auto bits = (std::uint64_t(exponent + 1023) << 52) | significand;
        for (const std::uint64_t sign : {std::uint64_t(0), std::uint64_t(1) << 63}) {
          const double v = std::bit_cast<double>(bits | sign);
          INFO("value " << v << ", format e" << exponent_bits << "m" << mantissa_bits);
          REQUIRE(detail::narrow16(v, mantissa_bits, exponent_bits) ==
                  detail::narrow16_by_scaling(v, mantissa_bits, exponent_bits));
        }
      }
  }
}

TEST_CASE("dtype metadata", "[dtype]") {
  CHECK(unit_roundoff(DType::f32) == std::ldexp(1.0, -24));
  CHECK(unit_roundoff(DType::bf16) == std::ldexp(1.0, -8));
  CHECK(parse_dtype("bf16") == DType::bf16);
  CHECK_FALSE(parse_dtype("f8").has_value());
  CHECK(from_dlpack(to_dlpack(DType::bf16)) == DType::bf16);
  CHECK(round_to(DType::f16, 1.0 + std::ldexp(1.0, -12)) == 1.0);
}
