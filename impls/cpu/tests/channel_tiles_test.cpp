// The 32-channel register tiles of the channels-last kernels
// (src/channel_tiles.hpp), run in the ISA clone this CPU picks, against
// scalar code: bf16 tiles load every pattern exactly into pair_slot order
// and store it back rounded as numeric::fast does at every rounding point;
// the per-channel moments (about a shift) and backward sums of a block
// equal, bit for bit, the scalar loop over each channel's rows (the tiles
// promise results that do not depend on the vector width). Tolerance:
// none, bit equality.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "../src/channel_tiles.hpp"
#include "../src/runs.hpp"
#include "normcheck/numeric/fast_float16.hpp"
#include "normcheck/numeric/float16.hpp"

using namespace normcheck;
using cpu::bf16_t;
using cpu::F8;
using cpu::kTileChannels;

namespace {

std::uint32_t bits(float f) {
  return std::bit_cast<std::uint32_t>(f);
}

NC_SIMD_CLONES void load_bf16_tile(const std::uint16_t* in, float* slots) {
  cpu::Tile<F8> v;
  cpu::load_tile<F8>(reinterpret_cast<const bf16_t*>(in), v);
  cpu::store_tile<F8>(slots, v);
}
NC_SIMD_CLONES void put_bf16_tile(const float* slots, std::uint16_t* out, bool stream) {
  cpu::Tile<F8> v;
  for (int k = 0; k < cpu::kTileVectors<F8>; ++k) v[k] = cpu::load8(slots + 8 * k);
  cpu::put_tile<cpu::Kit32, F8>(reinterpret_cast<bf16_t*>(out), v, stream);
  if (stream) cpu::stream_fence();
}
NC_SIMD_CLONES void clamp8(const float* in, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += 8)
    cpu::store8(out + i, cpu::clamp_negative_f32(cpu::load8(in + i)));
}
// One clone-dispatched entry per storage type (target_clones takes no
// templates).
template <class S>
NC_INLINE void moments_and_sums(const S* x, const S* dy, std::int64_t rows, std::int64_t C,
                                float* mean, float* m2, float* s1, float* s2) {
  const std::int64_t tiled = C / kTileChannels * kTileChannels;
  // Prefetching the rows themselves: a hint, never a change in results.
  cpu::RangePrefetch ahead(x, rows * C * std::int64_t(sizeof(S)), rows),
      dy_ahead(dy, rows * C * std::int64_t(sizeof(S)), rows), x_ahead = ahead;
  std::vector<float> sums(static_cast<std::size_t>(tiled));
  cpu::block_moments<cpu::Kit32>(x, rows, C, tiled, ahead, mean, m2, sums.data());
  cpu::block_backward_sums<cpu::Kit32>(dy, x, rows, C, tiled, mean, dy_ahead, x_ahead, s1, s2);
}
NC_SIMD_CLONES void tile_reductions(const float* x, const float* dy, std::int64_t rows,
                                    std::int64_t C, float* mean, float* m2, float* s1, float* s2) {
  moments_and_sums(x, dy, rows, C, mean, m2, s1, s2);
}
NC_SIMD_CLONES void tile_reductions(const bf16_t* x, const bf16_t* dy, std::int64_t rows,
                                    std::int64_t C, float* mean, float* m2, float* s1, float* s2) {
  moments_and_sums(x, dy, rows, C, mean, m2, s1, s2);
}

// Rows of 40 channels (a tile and 8 more, which the tile must not touch):
// values around a large offset, so a wrong order of operations shows in
// the last bits.
template <class S>
std::vector<S> rows_of(std::int64_t rows, std::int64_t C, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<S> v(std::size_t(rows * C));
  for (auto& e : v) {
    const float f = 300.0f + normal(gen);
    if constexpr (std::is_same_v<S, float>)
      e = f;
    else
      e = cpu::narrow<S>(f);
  }
  return v;
}

template <class S>
float value(const std::vector<S>& v, std::int64_t i) {
  return cpu::widen(v[std::size_t(i)]);
}

// Slot of channel c in a tile: channel order for f32, pair_slot for bf16.
template <class S>
std::int64_t slot(std::int64_t c) {
  return std::is_same_v<S, bf16_t> ? cpu::pair_slot(c, kTileChannels) : c;
}

}  // namespace

TEST_CASE("bf16 tiles load every pattern exactly into pair_slot order") {
  for (std::uint32_t first = 0; first < 65536; first += kTileChannels) {
    std::uint16_t h[kTileChannels];
    for (int c = 0; c < kTileChannels; ++c) h[c] = std::uint16_t(first + std::uint32_t(c));
    float slots[kTileChannels];
    load_bf16_tile(h, slots);
    for (std::int64_t c = 0; c < kTileChannels; ++c) {
      INFO("pattern " << h[c]);
      REQUIRE(bits(slots[cpu::pair_slot(c, kTileChannels)]) == bits(numeric::bf16_to_f32(h[c])));
    }
  }
}

TEST_CASE("bf16 tile stores round to nearest even and restore channel order") {
  // Below every bf16 pattern: exact, ties both ways, just around the
  // halfway point, the largest remainder (NaN quieting, overflow to inf).
  const std::uint32_t low[] = {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu};
  for (const bool stream : {false, true})
    for (const std::uint32_t l : low)
      for (std::uint32_t first = 0; first < 65536; first += kTileChannels) {
        float in[kTileChannels], slots[kTileChannels];
        for (int c = 0; c < kTileChannels; ++c) {
          in[c] = std::bit_cast<float>(((first + std::uint32_t(c)) << 16) |
                                       (l ^ (c % 2 ? 0x8000u : 0)));
          slots[cpu::pair_slot(c, kTileChannels)] = in[c];
        }
        alignas(64) std::uint16_t out[kTileChannels];
        put_bf16_tile(slots, out, stream);
        for (int c = 0; c < kTileChannels; ++c) {
          INFO("f32 pattern " << bits(in[c]) << (stream ? " streamed" : ""));
          REQUIRE(out[c] == numeric::fast::f32_to_bf16(in[c]));
        }
      }
}

TEST_CASE("the 8-lane clamp zeroes exactly the lanes below zero") {
  std::vector<float> in;
  for (std::uint32_t high = 0; high < 65536; ++high)
    for (const std::uint32_t l : {0x0000u, 0x0001u, 0xffffu})
      in.push_back(std::bit_cast<float>((high << 16) | l));
  std::vector<float> out(in.size());
  clamp8(in.data(), out.data(), std::int64_t(in.size()));
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("f32 pattern " << bits(in[i]));
    REQUIRE(bits(out[i]) == bits(in[i] < 0.0f ? 0.0f : in[i]));
  }
}

TEMPLATE_TEST_CASE("block moments and backward sums equal the scalar loop over each channel", "",
                   float, bf16_t) {
  using S = TestType;
  // Two tiles and 8 channels the tiles must not touch; row counts around
  // the four-row steps of the first pass.
  constexpr std::int64_t C = 72, tiled = 2 * kTileChannels;
  const std::int64_t rows = GENERATE(1, 3, 4, 7, 32);
  const auto x = rows_of<S>(rows, C, 11), dy = rows_of<S>(rows, C, 12);
  float mean[tiled], m2[tiled], s1[tiled], s2[tiled];
  tile_reductions(x.data(), dy.data(), rows, C, mean, m2, s1, s2);
  const float inv = 1.0f / float(rows);
  // The moments about a shift, the mean of the first four rows (all of
  // fewer), as block_moments promises; the backward sums about the mean
  // it returns.
  const std::int64_t k_rows = std::min<std::int64_t>(rows, 4);
  for (std::int64_t c = 0; c < tiled; ++c) {
    INFO("rows " << rows << " channel " << c);
    float first = 0.0f;
    for (std::int64_t r = 0; r < k_rows; ++r) first += value(x, r * C + c);
    const float shift = first * (1.0f / float(k_rows));
    float sum_d = 0.0f, sum_d2 = 0.0f;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float d = value(x, r * C + c) - shift;
      sum_d += d;
      sum_d2 += d * d;
    }
    const float mu = shift + sum_d * inv;
    float g_sum = 0.0f, gd_sum = 0.0f;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float g = value(dy, r * C + c);
      g_sum += g;
      gd_sum += g * (value(x, r * C + c) - mu);
    }
    const float corrected = sum_d2 - sum_d * sum_d * inv;
    const auto i = std::size_t(c / kTileChannels * kTileChannels + slot<S>(c % kTileChannels));
    REQUIRE(bits(mean[i]) == bits(mu));
    REQUIRE(bits(m2[i]) == bits(corrected < 0.0f ? 0.0f : corrected));
    REQUIRE(bits(s1[i]) == bits(g_sum));
    REQUIRE(bits(s2[i]) == bits(gd_sum));
  }
}
