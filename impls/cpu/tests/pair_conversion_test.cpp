// The bf16 pair loads and stores of the cpu kernels (simd.hpp) against the
// reference conversions of numeric/float16.hpp. Tolerance: none, bit
// equality, over every bf16 pattern and every rounding case of the f32 bits
// below them. The pair helpers are compiled for the baseline ISA here; the
// f16/bf16 stores, f16 loads and clamp are also checked in the ISA clone
// this CPU picks.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "../src/native.hpp"
#include "../src/runs.hpp"
#include "../src/simd.hpp"
#include "normcheck/numeric/fast_float16.hpp"
#include "normcheck/numeric/float16.hpp"
#include "rounding_cases.hpp"

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

TEST_CASE("the Halves pair loads give vload_pair's lanes, halves in lane order") {
  // load_pair_halves_as builds each pair type straight from the words (for
  // GCC's sake); each must hold lanes 0-7 in lo and 8-15 in hi.
  const auto halves_lanes = [](const cpu::Halves& v) {
    std::array<float, kLanes> a{};
    std::memcpy(a.data(), &v.lo, sizeof v.lo);
    std::memcpy(a.data() + kLanes / 2, &v.hi, sizeof v.hi);
    return a;
  };
  const auto same_bits = [](const std::array<float, kLanes>& a,
                            const std::array<float, kLanes>& b) {
    return std::memcmp(a.data(), b.data(), sizeof a) == 0;
  };
  for (std::uint32_t first = 0; first < 65536; first += 2 * kLanes) {
    std::array<std::uint16_t, 2 * kLanes> h{};
    for (int k = 0; k < 2 * kLanes; ++k)
      h[std::size_t(k)] = std::uint16_t((first + 7 * std::uint32_t(k)) & 0xffffu);
    const auto* p = reinterpret_cast<const cpu::bf16_t*>(h.data());
    const auto want = cpu::vload_pair(p);
    const auto wide = cpu::wload_pair<cpu::Halves>(p);
    const auto block = cpu::wload_block<cpu::Kit32>(p);
    REQUIRE(same_bits(halves_lanes(wide.even), lanes(want.even)));
    REQUIRE(same_bits(halves_lanes(wide.odd), lanes(want.odd)));
    REQUIRE(same_bits(halves_lanes(block.v0), lanes(want.even)));
    REQUIRE(same_bits(halves_lanes(block.v1), lanes(want.odd)));
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

// pack_pair8 (native.hpp) skips pack_pair's NaN select unless a lane may
// be NaN; it must give pack_pair's words in every case, in the clone this CPU
// picks (AVX2 here: the compare and movmskps lowering). Tolerance: none.
namespace {

NC_SIMD_CLONES void pack8_each(const float* even, const float* odd, std::uint32_t* out,
                               std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += 8) {
    const auto w = cpu::pack_pair8(cpu::load8(even + i), cpu::load8(odd + i));
    std::memcpy(out + i, &w, sizeof w);
  }
}
NC_SIMD_CLONES void put_pairs(const float* even, const float* odd, cpu::bf16_t* out,
                              std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes)
    cpu::put_pair_halves(out + 2 * i, cpu::load_halves(even + i), cpu::load_halves(odd + i), false);
}
NC_SIMD_CLONES void put_each(const float* in, cpu::bf16_t* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes)
    cpu::put_halves(out + i, cpu::load_halves(in + i), false);
}
std::vector<std::uint32_t> pack_pair_words(const std::vector<float>& even,
                                           const std::vector<float>& odd) {
  std::vector<std::uint32_t> words(even.size());
  for (std::size_t i = 0; i < even.size(); i += kLanes) {
    std::array<std::uint32_t, kLanes> e{}, o{};
    std::memcpy(e.data(), &even[i], sizeof e);
    std::memcpy(o.data(), &odd[i], sizeof o);
    const auto w = cpu::pack_pair(vec_of(e), vec_of(o));
    std::memcpy(&words[i], &w, sizeof w);
  }
  return words;
}

}  // namespace

TEST_CASE("pack_pair8, put_pair_halves and put_halves round as pack_pair, NaN lanes or none") {
  std::vector<float> even = cpu::testing::rounding_cases(), odd(even.size());
  // odd: the same cases rotated by 3 lanes, so NaN and finite lanes mix
  // unevenly between the two vectors.
  for (std::size_t i = 0; i < even.size(); ++i) odd[i] = even[(i + 3) % even.size()];
  // One NaN (signalling, then quiet with a payload) in each single lane of
  // otherwise finite blocks: the branch must see every lane. Rounded
  // without the NaN select, 0x7f800001 would come out as infinity.
  for (const std::uint32_t nan : {0x7f800001u, 0xffc12345u})
    for (std::size_t lane = 0; lane < 2 * kLanes; ++lane) {
      std::vector<float> e(kLanes), o(kLanes);
      for (std::size_t k = 0; k < std::size_t(kLanes); ++k) {
        e[k] = 1.0f + float(k) / 3.0f;
        o[k] = -2.5f * float(k) + 0.1f;
      }
      (lane < std::size_t(kLanes) ? e[lane] : o[lane - kLanes]) = std::bit_cast<float>(nan);
      even.insert(even.end(), e.begin(), e.end());
      odd.insert(odd.end(), o.begin(), o.end());
    }
  // False alarms of the product test (may_be_nan): no NaN, but infinity
  // meets zero within a pair of vectors (inf * 0) or across them (an
  // overflowed product times an underflowed one). The exact path then
  // stores the block, with pack_pair's bits.
  for (std::size_t lane = 0; lane < 8; ++lane)
    for (const bool across : {false, true}) {
      std::vector<float> e(kLanes, 1.5f), o(kLanes, -0.75f);
      if (across) {  // lane's product in the low 8 lanes overflows, in the high 8 underflows
        e[lane] = o[lane] = 3e38f;
        e[lane + 8] = o[lane + 8] = 1e-30f;
      } else {
        e[lane] = std::numeric_limits<float>::infinity();
        o[lane] = 0.0f;
      }
      even.insert(even.end(), e.begin(), e.end());
      odd.insert(odd.end(), o.begin(), o.end());
    }
  const auto n = std::int64_t(even.size());
  const auto want = pack_pair_words(even, odd);
  std::vector<std::uint32_t> got(even.size());
  pack8_each(even.data(), odd.data(), got.data(), n);
  std::vector<cpu::bf16_t> stored(2 * even.size());
  put_pairs(even.data(), odd.data(), stored.data(), n);
  std::vector<cpu::bf16_t> singles(even.size());
  put_each(odd.data(), singles.data(), n);
  std::size_t mismatched = 0, stored_mismatched = 0, single_mismatched = 0, quieted = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    mismatched += got[i] != want[i];
    std::uint32_t w = 0;
    std::memcpy(&w, &stored[2 * i], sizeof w);
    stored_mismatched += w != want[i];
    std::uint16_t h = 0;
    std::memcpy(&h, &singles[i], sizeof h);
    single_mismatched += h != (want[i] >> 16);
    quieted += (want[i] & 0xffffu) == 0x7fc0u || (want[i] >> 16) == 0x7fc0u;
  }
  CHECK(mismatched == 0);
  CHECK(stored_mismatched == 0);
  CHECK(single_mismatched == 0);
  // The single-NaN blocks are there: each one's signalling NaN quieted.
  CHECK(quieted >= std::size_t(2 * kLanes));
}

// The kernels' vector conversions, run in the clone this CPU picks (the
// AVX-512, AVX2 or baseline lowering of their masks; see mask_if_negative),
// against the scalar forms of numeric::fast. Tolerance: none, bit equality.
namespace {

NC_SIMD_CLONES void load_f16(const std::uint16_t* in, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes)
    cpu::vstore(out + i, cpu::vload(reinterpret_cast<const cpu::f16_t*>(in + i)));
}
NC_SIMD_CLONES void store_f16(const float* in, std::uint16_t* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes)
    cpu::vstore(reinterpret_cast<cpu::f16_t*>(out + i), cpu::vload(in + i));
}
// The 16-value forms the portable kernels use (Halves), each with a fast
// path for blocks without special values (native.hpp).
NC_SIMD_CLONES void load_f16_halves(const std::uint16_t* in, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes) {
    const cpu::Halves v = cpu::load_halves(reinterpret_cast<const cpu::f16_t*>(in + i));
    cpu::store8(out + i, v.lo);
    cpu::store8(out + i + 8, v.hi);
  }
}
NC_SIMD_CLONES void store_f16_halves(const float* in, std::uint16_t* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes)
    cpu::put_halves(reinterpret_cast<cpu::f16_t*>(out + i), cpu::load_halves(in + i), false);
}
NC_SIMD_CLONES void store_bf16(const float* in, std::uint16_t* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes)
    cpu::vstore(reinterpret_cast<cpu::bf16_t*>(out + i), cpu::vload(in + i));
}
NC_SIMD_CLONES void clamp(const float* in, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes)
    cpu::vstore(out + i, cpu::clamp_negative<float>(cpu::vload(in + i)));
}

}  // namespace

TEST_CASE("vector f16 loads equal the scalar conversion on every pattern") {
  std::vector<std::uint16_t> h(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) h[i] = std::uint16_t(i);
  std::vector<float> out(h.size());
  load_f16(h.data(), out.data(), std::int64_t(h.size()));
  for (std::size_t i = 0; i < h.size(); ++i) {
    INFO("f16 pattern " << i);
    REQUIRE(std::bit_cast<std::uint32_t>(out[i]) ==
            std::bit_cast<std::uint32_t>(numeric::fast::f16_to_f32(h[i])));
  }
}

TEST_CASE("16-value f16 loads and stores equal the scalar conversions, with and without specials") {
  // Loads: every pattern in order, so blocks of 16 hold only finite values
  // (the fast path) except around infinity and NaN (0x7c00-0x7fff,
  // 0xfc00-0xffff); then each finite block again with one infinity or NaN
  // in one lane, which must send the whole block the exact way.
  std::vector<std::uint16_t> h(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) h[i] = std::uint16_t(i);
  for (const std::uint16_t special : {0x7c00, 0xfc00, 0x7e01, 0x7c01, 0xfd00})
    for (std::uint32_t block = 0; block < 0x7c00; block += 16 * 97) {
      for (std::uint32_t k = 0; k < 16; ++k) h.push_back(std::uint16_t(block + k));
      h[h.size() - 16 + (block / 16) % 16] = special;
    }
  std::vector<float> loaded(h.size());
  load_f16_halves(h.data(), loaded.data(), std::int64_t(h.size()));
  std::size_t load_mismatched = 0;
  for (std::size_t i = 0; i < h.size(); ++i)
    if (std::bit_cast<std::uint32_t>(loaded[i]) !=
        std::bit_cast<std::uint32_t>(numeric::fast::f16_to_f32(h[i])))
      ++load_mismatched;
  CHECK(load_mismatched == 0);
  // Stores: every rounding point (blocks of normal values, and blocks that
  // mix in subnormals, overflow, infinity and NaN), then blocks of values
  // that round to normal f16 with one lane moved just outside that range.
  auto in = cpu::testing::rounding_cases();
  in.resize(in.size() / 16 * 16);
  for (const float outside : {0x1p-15f, 65520.0f, -65520.0f, 0x1.fffffep-15f,
                              std::numeric_limits<float>::quiet_NaN()})
    for (int block = 0; block < 40; ++block) {
      for (int k = 0; k < 16; ++k)
        in.push_back(std::ldexp(1.0f + float(k) / 17.0f, block % 30 - 14));
      in[in.size() - 16 + std::size_t(block % 16)] = outside;
    }
  std::vector<std::uint16_t> stored(in.size());
  store_f16_halves(in.data(), stored.data(), std::int64_t(in.size()));
  std::size_t store_mismatched = 0;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (stored[i] != numeric::fast::f32_to_f16(in[i])) ++store_mismatched;
  CHECK(store_mismatched == 0);
}

TEST_CASE("vector f16 and bf16 stores equal the scalar conversions at every rounding point") {
  const auto in = cpu::testing::rounding_cases();
  std::vector<std::uint16_t> f16(in.size()), bf16(in.size());
  store_f16(in.data(), f16.data(), std::int64_t(in.size()));
  store_bf16(in.data(), bf16.data(), std::int64_t(in.size()));
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("f32 pattern " << std::bit_cast<std::uint32_t>(in[i]));
    REQUIRE(f16[i] == numeric::fast::f32_to_f16(in[i]));
    REQUIRE(bf16[i] == numeric::fast::f32_to_bf16(in[i]));
  }
}

TEST_CASE("clamp_negative zeroes exactly the lanes below zero") {
  const auto in = cpu::testing::rounding_cases();
  std::vector<float> out(in.size());
  clamp(in.data(), out.data(), std::int64_t(in.size()));
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("f32 pattern " << std::bit_cast<std::uint32_t>(in[i]));
    const float expected = in[i] < 0.0f ? 0.0f : in[i];
    REQUIRE(std::bit_cast<std::uint32_t>(out[i]) == std::bit_cast<std::uint32_t>(expected));
  }
}
