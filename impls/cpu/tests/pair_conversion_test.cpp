// The bf16 pair loads and stores of the cpu kernels (simd.hpp) against the
// reference conversions of numeric/float16.hpp. Tolerance: none, bit
// equality, over every bf16 pattern and every rounding case of the f32 bits
// below them. Compiled for the baseline ISA; the AVX2/AVX-512 clones run the
// same lane-wise integer and compare operations.
#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "../src/simd.hpp"
#include "normcheck/numeric/float16.hpp"

using namespace normcheck;
using normcheck::cpu::Vec;

namespace {

constexpr int kLanes = 16;

std::array<float, kLanes> lanes(Vec<float> v) {
  std::array<float, kLanes> a{};
  std::memcpy(a.data(), &v, sizeof v);
  return a;
}

Vec<float> vec_of(const std::array<std::uint32_t, kLanes>& bits) {
  Vec<float> v;
  std::memcpy(&v, bits.data(), sizeof v);
  return v;
}

}  // namespace

TEST_CASE("vload_pair widens 32 bf16 values into their even and odd elements exactly") {
  for (std::uint32_t first = 0; first < 65536; first += 2 * kLanes) {
    std::array<std::uint16_t, 2 * kLanes> h{};
    for (int k = 0; k < 2 * kLanes; ++k)
      h[std::size_t(k)] = std::uint16_t(first + std::uint32_t(k));
    const auto pair = cpu::vload_pair(reinterpret_cast<const cpu::bf16_t*>(h.data()));
    const auto even = lanes(pair.even), odd = lanes(pair.odd);
    for (int k = 0; k < kLanes; ++k) {
      const auto i = std::size_t(k);
      REQUIRE(std::bit_cast<std::uint32_t>(even[i]) ==
              std::bit_cast<std::uint32_t>(numeric::bf16_to_f32(h[2 * i])));
      REQUIRE(std::bit_cast<std::uint32_t>(odd[i]) ==
              std::bit_cast<std::uint32_t>(numeric::bf16_to_f32(h[2 * i + 1])));
    }
  }
}

TEST_CASE("pack_pair rounds to nearest even, keeps NaN, and interleaves even and odd") {
  // Below each bf16 pattern: exact, just above, just below and at the
  // halfway point, just above it, and the largest remainder; with the bf16
  // patterns of NaN and of the largest finite value these cover quieting,
  // ties both ways and overflow to infinity.
  const std::array<std::uint32_t, 6> low = {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu};
  for (const std::uint32_t l : low)
    for (std::uint32_t first = 0; first < 65536; first += 2 * kLanes) {
      std::array<std::uint32_t, kLanes> even{}, odd{};
      for (int k = 0; k < kLanes; ++k) {
        even[std::size_t(k)] = ((first + 2 * std::uint32_t(k)) << 16) | l;
        odd[std::size_t(k)] = ((first + 2 * std::uint32_t(k) + 1) << 16) | (l ^ 0x8000u);
      }
      const auto words = cpu::pack_pair(vec_of(even), vec_of(odd));
      std::array<std::uint16_t, 2 * kLanes> out{};
      std::memcpy(out.data(), &words, sizeof words);
      for (int k = 0; k < kLanes; ++k) {
        const auto i = std::size_t(k);
        REQUIRE(out[2 * i] == numeric::f32_to_bf16(std::bit_cast<float>(even[i])));
        REQUIRE(out[2 * i + 1] == numeric::f32_to_bf16(std::bit_cast<float>(odd[i])));
      }
    }
}
