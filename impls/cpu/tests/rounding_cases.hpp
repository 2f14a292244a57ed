// f32 inputs for the conversion tests: every 16-bit high half with low
// halves at and around the f16 (13 dropped bits) and bf16 (16 dropped bits)
// rounding points: every exponent, subnormals, ties both ways, overflow,
// inf and NaN. 65536 * 12 values: a multiple of 32 (bf16 pairs).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace normcheck::cpu::testing {

inline std::vector<float> rounding_cases() {
  const std::array<std::uint32_t, 12> low = {0x0000u, 0x0001u, 0x0fffu, 0x1000u, 0x1001u, 0x1fffu,
                                             0x2000u, 0x3000u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu};
  std::vector<float> v;
  for (std::uint32_t high = 0; high < 65536; ++high)
    for (const std::uint32_t l : low) v.push_back(std::bit_cast<float>((high << 16) | l));
  return v;
}

}  // namespace normcheck::cpu::testing
