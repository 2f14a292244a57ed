// The 64-byte builds' hardware conversions (wide.hpp) against
// numeric::fast's scalar ones: the avx512_bf16 pair store (vcvtne2ps2bf16,
// subnormal lanes packed the integer way) and the f16 store (vcvtps2ph,
// NaN vectors the integer way) at every rounding point of the f32 bits
// (rounding_cases.hpp: subnormals, ties, overflow, inf, NaN), through
// regular stores and streaming stores at 64-byte- and 16-byte-aligned
// addresses; the f16 load (vcvtph2ps, NaN vectors the integer way) on all
// 65536 patterns, signalling NaNs included. Tolerance: none, bit equality.
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

// out[i] = f16(in[i]) through the avx512 build's f16 store.
NC_TARGET_AVX512 void put_f16(const float* in, std::uint16_t* out, std::int64_t n, bool stream) {
  for (std::int64_t i = 0; i < n; i += 16) {
    cpu::Vec<float> v;
    std::memcpy(&v, in + i, sizeof v);
    cpu::native_put_f16(reinterpret_cast<cpu::f16_t*>(out + i), v, stream);
  }
  cpu::stream_fence();
}
NC_TARGET_AVX512 void load_f16(const std::uint16_t* in, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += 16) {
    const cpu::Vec<float> v = cpu::native_load_f16(reinterpret_cast<const cpu::f16_t*>(in + i));
    std::memcpy(out + i, &v, sizeof v);
  }
}

// 64-byte-aligned storage for n values and an offset of up to 8.
struct AlignedWords {
  explicit AlignedWords(std::size_t n) : storage(n + 64) {}
  std::uint16_t* at(std::int64_t offset) {
    return reinterpret_cast<std::uint16_t*>(
               (reinterpret_cast<std::uintptr_t>(storage.data()) + 63) / 64 * 64) +
           offset;
  }
  std::vector<std::uint16_t> storage;
};

// check(out, stream) after regular and streaming stores, each at a 64-byte
// and at a 16-byte aligned address.
template <class Check>
void for_each_placement(AlignedWords& words, Check&& check) {
  for (const bool stream : {false, true})
    for (const std::int64_t offset : {0, 8}) {
      INFO((stream ? "streaming" : "regular") << " stores at +" << 2 * offset << " bytes");
      check(words.at(offset), stream);
    }
}

}  // namespace

TEST_CASE("the native f16 store and load convert as numeric::fast", "[isa]") {
  // Every AVX-512 CPU runs them; the runner skips the program without AVX-512.
  const auto in = cpu::testing::rounding_cases();
  const auto n = std::int64_t(in.size());
  AlignedWords words(in.size());
  for_each_placement(words, [&](std::uint16_t* out, bool stream) {
    put_f16(in.data(), out, n, stream);
    for (std::int64_t i = 0; i < n; ++i) {
      INFO("f32 pattern " << std::bit_cast<std::uint32_t>(in[std::size_t(i)]));
      REQUIRE(out[i] == numeric::fast::f32_to_f16(in[std::size_t(i)]));
    }
  });
  std::vector<std::uint16_t> patterns(65536);
  for (std::uint32_t h = 0; h < 65536; ++h) patterns[h] = std::uint16_t(h);
  std::vector<float> widened(patterns.size());
  load_f16(patterns.data(), widened.data(), std::int64_t(patterns.size()));
  for (std::uint32_t h = 0; h < 65536; ++h) {
    INFO("f16 pattern " << h);
    REQUIRE(std::bit_cast<std::uint32_t>(widened[h]) ==
            std::bit_cast<std::uint32_t>(numeric::fast::f16_to_f32(std::uint16_t(h))));
  }
}

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
  AlignedWords words(in.size());
  for_each_placement(words, [&](std::uint16_t* out, bool stream) {
    put_pairs(in.data(), out, n, stream);
    for (std::int64_t i = 0; i < n; i += 32)
      for (std::int64_t k = 0; k < 16; ++k) {
        INFO("f32 patterns " << std::bit_cast<std::uint32_t>(in[std::size_t(i + k)]) << ", "
                             << std::bit_cast<std::uint32_t>(in[std::size_t(i + 16 + k)]));
        REQUIRE(out[i + 2 * k] == numeric::fast::f32_to_bf16(in[std::size_t(i + k)]));
        REQUIRE(out[i + 2 * k + 1] == numeric::fast::f32_to_bf16(in[std::size_t(i + 16 + k)]));
      }
  });
}
