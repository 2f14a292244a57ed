// The avx512_bf16 build's pair store (wide.hpp's wput_pair with Kit64Bf16:
// vcvtne2ps2bf16, subnormal lanes packed the integer way) against
// numeric::fast's scalar rounding, at every rounding point of the f32 bits
// (rounding_cases.hpp: subnormals, ties, overflow, inf, NaN), through
// regular stores and through streaming stores at 64-byte-aligned and
// 16-byte-aligned addresses. Tolerance: none, bit equality.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../src/kernel_isa.hpp"
#include "../src/wide.hpp"
#include "isa_builds.hpp"
#include "normcheck/numeric/fast_float16.hpp"
#include "rounding_cases.hpp"

using namespace normcheck;

namespace {

// out[2k] = bf16(in[k]), out[2k + 1] = bf16(in[16 + k]) per 32 values.
NC_TARGET_AVX512_BF16 void put_pairs(const float* in, std::uint16_t* out, std::int64_t n,
                                     bool stream) {
  for (std::int64_t i = 0; i < n; i += 32) {
    cpu::Vec<float> even, odd;
    std::memcpy(&even, in + i, sizeof even);
    std::memcpy(&odd, in + i + 16, sizeof odd);
    cpu::wput_pair<cpu::Kit64Bf16>(reinterpret_cast<cpu::bf16_t*>(out + i), even, odd, stream);
  }
  cpu::stream_fence();
}

}  // namespace

TEST_CASE("the native bf16 pair store rounds as numeric::fast at every rounding point", "[isa]") {
  const auto builds = cpu::testing::isa_builds();
  const bool native = std::find(builds.compared.begin(), builds.compared.end(), "avx512_bf16") !=
                      builds.compared.end();
  if (!native) {
    WARN("not run: this CPU has no avx512_bf16 (" << builds.summary << ")");
    return;
  }
  const auto in = cpu::testing::rounding_cases();
  const auto n = std::int64_t(in.size());
  // 64-byte-aligned storage, written at offset 0 and at 16 bytes (8 values).
  std::vector<std::uint16_t> storage(in.size() + 64);
  auto* aligned = reinterpret_cast<std::uint16_t*>(
      (reinterpret_cast<std::uintptr_t>(storage.data()) + 63) / 64 * 64);
  for (const bool stream : {false, true})
    for (const std::int64_t offset : {0, 8}) {
      INFO((stream ? "streaming" : "regular") << " stores at +" << 2 * offset << " bytes");
      std::uint16_t* out = aligned + offset;
      put_pairs(in.data(), out, n, stream);
      for (std::int64_t i = 0; i < n; i += 32)
        for (std::int64_t k = 0; k < 16; ++k) {
          INFO("f32 patterns " << std::bit_cast<std::uint32_t>(in[std::size_t(i + k)]) << ", "
                               << std::bit_cast<std::uint32_t>(in[std::size_t(i + 16 + k)]));
          REQUIRE(out[i + 2 * k] == numeric::fast::f32_to_bf16(in[std::size_t(i + k)]));
          REQUIRE(out[i + 2 * k + 1] == numeric::fast::f32_to_bf16(in[std::size_t(i + 16 + k)]));
        }
    }
}
