// Per-channel reductions over the rows of a channels-last block, and the
// per-row normalize and dx, 32 channels (a tile) at a time.
//
// In the vectors of a kit (wide.hpp): four of 8 lanes in the portable
// build, where 32-byte vectors stay in registers (see native.hpp), two of
// 16 in the AVX-512 builds. Passes that read memory walk a block in
// address order with per-channel sums in L1; passes over a block already
// in L1/L2 go tile by tile with the sums in registers. Every channel has its own accumulator, summed over rows in
// row order, so neither the walk nor the vector width decides anything
// about the results: a channel's bits are those of the scalar loop over
// its rows, in every clone and in the 64-byte per-channel walk.
//
// A tile holds channels [c, c + 32) of one row as 32 / lanes vectors. For
// f32 they are in channel order. For bf16 they come from loads of 32-bit
// words: the even channels first, then the odd ones, in the slot order of
// pair_slot (runs.hpp): slots 0-15 channels 0, 2, ..., 30; 16-31 channels
// 1, 3, ..., 31, whichever the vector width.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "native.hpp"
#include "wide.hpp"

namespace normcheck::cpu {

inline constexpr std::int64_t kTileChannels = 32;

// Storage types with register tiles; the others (f16, f64) take the
// 64-byte per-channel walk of each_storage_channel.
template <class S>
inline constexpr bool kHasTiles = std::is_same_v<S, float> || std::is_same_v<S, bf16_t>;

template <class V>
inline constexpr int kVectorLanes = int(sizeof(V) / sizeof(float));
template <class V>
inline constexpr int kTileVectors = int(kTileChannels) / kVectorLanes<V>;
template <class V>
using Tile = V[kTileVectors<V>];

template <class V>
NC_INLINE V load_vec(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
NC_INLINE void store_vec(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}
template <class V>
NC_INLINE typename BitsOf<V>::type load_words(const void* p) {
  typename BitsOf<V>::type w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

template <class V>
NC_INLINE void load_tile(const float* p, Tile<V>& v) {
  for (int k = 0; k < kTileVectors<V>; ++k) v[k] = load_vec<V>(p + kVectorLanes<V> * k);
}
template <class V>
NC_INLINE void load_tile(const bf16_t* p, Tile<V>& v) {
  constexpr int half = kTileVectors<V> / 2;
  for (int h = 0; h < half; ++h) {
    const auto w = load_words<V>(p + 2 * kVectorLanes<V> * h);
    v[h] = std::bit_cast<V>(w << 16);
    v[half + h] = std::bit_cast<V>(w & 0xffff0000u);
  }
}
template <class V>
NC_INLINE void store_tile(float* p, const Tile<V>& v) {
  for (int k = 0; k < kTileVectors<V>; ++k) store_vec(p + kVectorLanes<V> * k, v[k]);
}

// Stores a tile's values to storage, rounding bf16 to nearest even as
// pack_pair does (the slot order back to channel order); streaming when
// the caller decided so (see should_stream).
template <class K, class V>
NC_INLINE void put_tile(float* p, const Tile<V>& v, bool stream) {
  for (int k = 0; k < kTileVectors<V>; ++k) {
    if constexpr (std::is_same_v<V, F8>)
      put8(p + 8 * k, v[k], stream);
    else
      vput(p + kVectorLanes<V> * k, v[k], stream);
  }
}
template <class K, class V>
NC_INLINE void put_tile(bf16_t* p, const Tile<V>& v, bool stream) {
  constexpr int half = kTileVectors<V> / 2;
  for (int h = 0; h < half; ++h)
    wput_pair<K>(p + 2 * kVectorLanes<V> * h, v[h], v[half + h], stream);
}

// Fetches a contiguous byte range (the next block) a few lines per step,
// in address order, spread over a loop that works from the caches: memory
// stays busy while the core computes (see prefetch_line).
struct RangePrefetch {
  const char* at;
  const char* end;
  std::int64_t lines_per_step;
  RangePrefetch(const void* begin, std::int64_t bytes, std::int64_t steps)
      : at(static_cast<const char*>(begin)),
        end(at + bytes),
        lines_per_step(steps > 0 ? (bytes / 64 + steps) / steps : 0) {}
  NC_INLINE void step() {
    for (std::int64_t k = 0; k < lines_per_step && at < end; ++k, at += 64)
      __builtin_prefetch(at, 0, 2);
  }
};

// Two-pass moments of the tiled channels [0, tiled) over `rows` rows from
// p on (row stride C): mean and the corrected m2 = sum(d^2) - (sum d)^2 /
// rows, d = x - mean (Chan, Golub & LeVeque's corrected form), clamped at zero, per channel in
// slot order.
//
// The first pass reads the block from memory, so it walks it in address
// order, row after row, with the sums in `mean` (L1): walked tile by tile
// (two lines of each 1 KiB row, then the next row) it gave the hardware
// prefetcher 16 interleaved strided streams, and a single thread read 8
// GB/s where the row-order normalize pass moves 20. The second pass works
// from L1/L2, tile by tile with its accumulators in registers. Either way
// each channel is summed over its rows in row order: the same bits. Both
// passes step `ahead` (the next block, which is then read from L2).
template <class K, class S>
NC_INLINE void block_moments(const S* p, std::int64_t rows, std::int64_t C, std::int64_t tiled,
                             float inv, RangePrefetch& ahead, float* mean, float* m2) {
  using V = typename K::tile;
  constexpr int n = kTileVectors<V>, lanes = kVectorLanes<V>;
  for (std::int64_t c = 0; c < tiled; ++c) mean[c] = 0.0f;
  // Four rows per visit of the sums: a quarter of the L1 loads and stores.
  std::int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    for (std::int64_t t = 0; t < tiled; t += kTileChannels) {
      ahead.step();
      Tile<V> v0, v1, v2, v3;
      load_tile<V>(p + r * C + t, v0);
      load_tile<V>(p + (r + 1) * C + t, v1);
      load_tile<V>(p + (r + 2) * C + t, v2);
      load_tile<V>(p + (r + 3) * C + t, v3);
      for (int k = 0; k < n; ++k)
        store_vec(mean + t + lanes * k,
                  (((load_vec<V>(mean + t + lanes * k) + v0[k]) + v1[k]) + v2[k]) + v3[k]);
    }
  for (; r < rows; ++r)
    for (std::int64_t t = 0; t < tiled; t += kTileChannels) {
      ahead.step();
      Tile<V> v;
      load_tile<V>(p + r * C + t, v);
      for (int k = 0; k < n; ++k)
        store_vec(mean + t + lanes * k, load_vec<V>(mean + t + lanes * k) + v[k]);
    }
  for (std::int64_t t = 0; t < tiled; t += kTileChannels) {
    Tile<V> mu;
    for (int k = 0; k < n; ++k) mu[k] = load_vec<V>(mean + t + lanes * k) * inv;
    Tile<V> sum_d = {}, sum_d2 = {};
    for (std::int64_t r = 0; r < rows; ++r) {
      ahead.step();
      Tile<V> v;
      load_tile<V>(p + r * C + t, v);
      for (int k = 0; k < n; ++k) {
        const V d = v[k] - mu[k];
        sum_d[k] += d;
        sum_d2[k] += d * d;
      }
    }
    for (int k = 0; k < n; ++k) {
      store_vec(mean + t + lanes * k, mu[k]);
      store_vec(m2 + t + lanes * k, clamp_negative_f32(sum_d2[k] - sum_d[k] * sum_d[k] * inv));
    }
  }
}

// sum(dy) and sum(dy * (x - mean)) of the tiled channels [0, tiled) over
// `rows` rows (mean: per channel, in slot order). One pass from memory, so
// in address order with the sums in L1 (see block_moments); each channel
// is summed in row order.
template <class K, class S>
NC_INLINE void block_backward_sums(const S* dy, const S* x, std::int64_t rows, std::int64_t C,
                                   std::int64_t tiled, const float* mean, RangePrefetch& dy_ahead,
                                   RangePrefetch& x_ahead, float* sum_dy, float* sum_dy_d) {
  using V = typename K::tile;
  for (std::int64_t c = 0; c < tiled; ++c) sum_dy[c] = sum_dy_d[c] = 0.0f;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t t = 0; t < tiled; t += kTileChannels) {
      dy_ahead.step();
      x_ahead.step();
      Tile<V> g, v;
      load_tile<V>(dy + r * C + t, g);
      load_tile<V>(x + r * C + t, v);
      for (int k = 0; k < kTileVectors<V>; ++k) {
        const std::int64_t i = t + kVectorLanes<V> * k;
        store_vec(sum_dy + i, load_vec<V>(sum_dy + i) + g[k]);
        store_vec(sum_dy_d + i, load_vec<V>(sum_dy_d + i) + g[k] * (v[k] - load_vec<V>(mean + i)));
      }
    }
}

// y = (x - mean) * scale + shift for one row's tile (parameters in slot
// order), as run_affine.
template <class K, class S>
NC_INLINE void tile_affine(const S* x, S* y, const float* mean, const float* scale,
                           const float* shift, bool stream) {
  using V = typename K::tile;
  constexpr int lanes = kVectorLanes<V>;
  Tile<V> v;
  load_tile<V>(x, v);
  for (int k = 0; k < kTileVectors<V>; ++k)
    v[k] = (v[k] - load_vec<V>(mean + lanes * k)) * load_vec<V>(scale + lanes * k) +
           load_vec<V>(shift + lanes * k);
  put_tile<K, V>(y, v, stream);
}

// dx = (a * dy + c0) + (x - mean) * c1 for one row's tile, or a * dy + c0
// without the x term (kWithX false), as run_dx.
template <bool kWithX, class K, class S>
NC_INLINE void tile_dx(const S* dy, const S* x, S* dx, const float* mean, const float* a,
                       const float* c0, const float* c1, bool stream) {
  using V = typename K::tile;
  constexpr int lanes = kVectorLanes<V>;
  Tile<V> g;
  load_tile<V>(dy, g);
  if constexpr (kWithX) {
    Tile<V> v;
    load_tile<V>(x, v);
    for (int k = 0; k < kTileVectors<V>; ++k)
      g[k] = (load_vec<V>(a + lanes * k) * g[k] + load_vec<V>(c0 + lanes * k)) +
             (v[k] - load_vec<V>(mean + lanes * k)) * load_vec<V>(c1 + lanes * k);
  } else {
    for (int k = 0; k < kTileVectors<V>; ++k)
      g[k] = load_vec<V>(a + lanes * k) * g[k] + load_vec<V>(c0 + lanes * k);
  }
  put_tile<K, V>(dx, g, stream);
}

}  // namespace normcheck::cpu
