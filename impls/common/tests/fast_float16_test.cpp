// The fast (branch-free, vectorizable) conversions against the reference
// ones in float16.hpp. Tolerance: none; both are exact or correctly
// rounded, so every check is bit equality (NaN: both NaN, quiet, same sign).
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "normcheck/numeric/fast_float16.hpp"
#include "normcheck/numeric/float16.hpp"

using namespace normcheck::numeric;

namespace {

// Loops of a million checks count mismatches and report the first, instead
// of one Catch2 assertion per value.
struct Mismatches {
  int count = 0;
  float first = 0.0f;
  void add(float f) {
    if (count++ == 0) first = f;
  }
};

bool same_f16(float f) {
  const std::uint16_t expected = f32_to_f16(f);
  const std::uint16_t got = fast::f32_to_f16(f);
  if (std::isnan(f))  // quiet NaN with the sign kept
    return (got & 0x7e00u) == 0x7e00u && (got & 0x8000u) == (expected & 0x8000u);
  return got == expected;
}

bool same_bf16(float f) {
  return std::isnan(f) || fast::f32_to_bf16(f) == f32_to_bf16(f);
}

void require_none(const Mismatches& m) {
  INFO("first mismatch at f = " << m.first << " (bits 0x" << std::hex
                                << std::bit_cast<std::uint32_t>(m.first) << ")");
  REQUIRE(m.count == 0);
}

}  // namespace

TEST_CASE("fast f16 and bf16 widening match the reference on all 65536 patterns", "[fast16]") {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = std::uint16_t(b);
    const float f16 = fast::f16_to_f32(bits);
    const float bf16 = fast::bf16_to_f32(bits);
    if (std::isnan(f16_to_f64(bits))) {
      REQUIRE(std::isnan(f16));
    } else {
      REQUIRE(std::bit_cast<std::uint32_t>(f16) == std::bit_cast<std::uint32_t>(f16_to_f32(bits)));
    }
    if (std::isnan(bf16_to_f64(bits))) {
      REQUIRE(std::isnan(bf16));
    } else {
      REQUIRE(std::bit_cast<std::uint32_t>(bf16) ==
              std::bit_cast<std::uint32_t>(bf16_to_f32(bits)));
    }
  }
}

TEST_CASE("fast f32 -> f16 rounds like the reference at every rounding boundary", "[fast16]") {
  // For each f16 value: the value itself, the exact midpoint to the next
  // one (a tie) and the f32 neighbours of that midpoint, both signs. These
  // are the inputs where a wrong rounding rule would show.
  Mismatches m;
  for (std::uint32_t b = 0; b < 0x7c00u; ++b) {
    const double lo = f16_to_f64(std::uint16_t(b));
    const double hi = b + 1 < 0x7c00u ? f16_to_f64(std::uint16_t(b + 1)) : 65536.0;
    const auto mid = float((lo + hi) / 2);  // exact: f16 midpoints fit in f32
    for (const float f : {float(lo), mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)}) {
      if (!same_f16(f)) m.add(f);
      if (!same_f16(-f)) m.add(-f);
    }
  }
  require_none(m);
}

TEST_CASE("fast f32 -> f16 and -> bf16 on specials and spread bit patterns", "[fast16]") {
  const float inf = std::numeric_limits<float>::infinity();
  for (const float f : {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(),
                        -std::numeric_limits<float>::quiet_NaN(), 65504.0f, 65519.99f, 65520.0f,
                        1e-8f, 2.9802322e-8f, 5.96e-8f, std::numeric_limits<float>::denorm_min(),
                        std::numeric_limits<float>::max()}) {
    INFO("f = " << f);
    REQUIRE(same_f16(f));
    REQUIRE(same_bf16(f));
  }
  Mismatches m;
  // Every 4099th f32 pattern (about a million, all exponents and signs).
  for (std::uint64_t u = 0; u <= 0xffffffffull; u += 4099) {
    const float f = std::bit_cast<float>(std::uint32_t(u));
    if (!same_f16(f) || !same_bf16(f)) m.add(f);
  }
  require_none(m);
}
