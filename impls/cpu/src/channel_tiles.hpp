// Per-channel reductions over the rows of a channels-last block, and the
// per-row normalize and dx, 32 channels (a tile) at a time.
//
// In 32-byte vectors, which stay in registers (see native.hpp). Passes that
// read memory walk a block in address order with per-channel sums in L1;
// passes over a block already in L1/L2 go tile by tile with the sums in
// registers. Every channel has its own accumulator, summed over rows in
// row order, so neither the walk nor the vector width decides anything
// about the results: a channel's bits are those of the scalar loop over
// its rows, in every clone and in the 64-byte per-channel walk.
//
// A tile holds channels [c, c + 32) of one row as four 8-lane vectors. For
// f32 they are in channel order. For bf16 they come from two loads of 8
// 32-bit words: the even and the odd channels of each 16, in the slot order
// of pair_slot (runs.hpp): slots 0-7 channels 0, 2, ..., 14; 8-15 channels
// 16, ..., 30; 16-23 channels 1, ..., 15; 24-31 channels 17, ..., 31.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "native.hpp"

namespace normcheck::cpu {

inline constexpr std::int64_t kTileChannels = 32;
inline constexpr int kTileVectors = 4;

// Storage types with register tiles; the others (f16, f64) take the
// 64-byte per-channel walk of each_storage_channel.
template <class S>
inline constexpr bool kHasTiles = std::is_same_v<S, float> || std::is_same_v<S, bf16_t>;

NC_INLINE void load_tile(const float* p, F8 (&v)[kTileVectors]) {
  for (int k = 0; k < kTileVectors; ++k) v[k] = load8(p + 8 * k);
}
NC_INLINE void load_tile(const bf16_t* p, F8 (&v)[kTileVectors]) {
  const U8 w0 = load_words8(p), w1 = load_words8(p + 16);
  v[0] = std::bit_cast<F8>(w0 << 16);
  v[1] = std::bit_cast<F8>(w1 << 16);
  v[2] = std::bit_cast<F8>(w0 & 0xffff0000u);
  v[3] = std::bit_cast<F8>(w1 & 0xffff0000u);
}
NC_INLINE void store_tile(float* p, const F8 (&v)[kTileVectors]) {
  for (int k = 0; k < kTileVectors; ++k) store8(p + 8 * k, v[k]);
}

// Stores a tile's values to storage, rounding bf16 to nearest even as
// pack_pair does (the slot order back to channel order); streaming when
// the caller decided so (see should_stream).
NC_INLINE void put_tile(float* p, const F8 (&v)[kTileVectors], bool stream) {
  for (int k = 0; k < kTileVectors; ++k) put8(p + 8 * k, v[k], stream);
}
NC_INLINE void put_tile(bf16_t* p, const F8 (&v)[kTileVectors], bool stream) {
  put_words8(p, pack_pair(v[0], v[2]), stream);
  put_words8(p + 16, pack_pair(v[1], v[3]), stream);
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
// rows, d = x - mean (as in run_moments), clamped at zero, per channel in
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
template <class S>
NC_INLINE void block_moments(const S* p, std::int64_t rows, std::int64_t C, std::int64_t tiled,
                             float inv, RangePrefetch& ahead, float* mean, float* m2) {
  for (std::int64_t c = 0; c < tiled; ++c) mean[c] = 0.0f;
  // Four rows per visit of the sums: a quarter of the L1 loads and stores.
  std::int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    for (std::int64_t t = 0; t < tiled; t += kTileChannels) {
      ahead.step();
      F8 v0[kTileVectors], v1[kTileVectors], v2[kTileVectors], v3[kTileVectors];
      load_tile(p + r * C + t, v0);
      load_tile(p + (r + 1) * C + t, v1);
      load_tile(p + (r + 2) * C + t, v2);
      load_tile(p + (r + 3) * C + t, v3);
      for (int k = 0; k < kTileVectors; ++k)
        store8(mean + t + 8 * k, (((load8(mean + t + 8 * k) + v0[k]) + v1[k]) + v2[k]) + v3[k]);
    }
  for (; r < rows; ++r)
    for (std::int64_t t = 0; t < tiled; t += kTileChannels) {
      ahead.step();
      F8 v[kTileVectors];
      load_tile(p + r * C + t, v);
      for (int k = 0; k < kTileVectors; ++k)
        store8(mean + t + 8 * k, load8(mean + t + 8 * k) + v[k]);
    }
  for (std::int64_t t = 0; t < tiled; t += kTileChannels) {
    F8 mu[kTileVectors];
    for (int k = 0; k < kTileVectors; ++k) mu[k] = load8(mean + t + 8 * k) * inv;
    F8 sum_d[kTileVectors] = {}, sum_d2[kTileVectors] = {};
    for (std::int64_t r = 0; r < rows; ++r) {
      ahead.step();
      F8 v[kTileVectors];
      load_tile(p + r * C + t, v);
      for (int k = 0; k < kTileVectors; ++k) {
        const F8 d = v[k] - mu[k];
        sum_d[k] += d;
        sum_d2[k] += d * d;
      }
    }
    for (int k = 0; k < kTileVectors; ++k) {
      store8(mean + t + 8 * k, mu[k]);
      store8(m2 + t + 8 * k, clamp_negative_f32(sum_d2[k] - sum_d[k] * sum_d[k] * inv));
    }
  }
}

// sum(dy) and sum(dy * (x - mean)) of the tiled channels [0, tiled) over
// `rows` rows (mean: per channel, in slot order). One pass from memory, so
// in address order with the sums in L1 (see block_moments); each channel
// is summed in row order.
template <class S>
NC_INLINE void block_backward_sums(const S* dy, const S* x, std::int64_t rows, std::int64_t C,
                                   std::int64_t tiled, const float* mean, RangePrefetch& dy_ahead,
                                   RangePrefetch& x_ahead, float* sum_dy, float* sum_dy_d) {
  for (std::int64_t c = 0; c < tiled; ++c) sum_dy[c] = sum_dy_d[c] = 0.0f;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t t = 0; t < tiled; t += kTileChannels) {
      dy_ahead.step();
      x_ahead.step();
      F8 g[kTileVectors], v[kTileVectors];
      load_tile(dy + r * C + t, g);
      load_tile(x + r * C + t, v);
      for (int k = 0; k < kTileVectors; ++k) {
        const std::int64_t i = t + 8 * k;
        store8(sum_dy + i, load8(sum_dy + i) + g[k]);
        store8(sum_dy_d + i, load8(sum_dy_d + i) + g[k] * (v[k] - load8(mean + i)));
      }
    }
}

// y = (x - mean) * scale + shift for one row's tile (parameters in slot
// order), as run_affine.
template <class S>
NC_INLINE void tile_affine(const S* x, S* y, const float* mean, const float* scale,
                           const float* shift, bool stream) {
  F8 v[kTileVectors];
  load_tile(x, v);
  for (int k = 0; k < kTileVectors; ++k)
    v[k] = (v[k] - load8(mean + 8 * k)) * load8(scale + 8 * k) + load8(shift + 8 * k);
  put_tile(y, v, stream);
}

// dx = (a * dy + c0) + (x - mean) * c1 for one row's tile, or a * dy + c0
// without the x term (kWithX false), as run_dx.
template <bool kWithX, class S>
NC_INLINE void tile_dx(const S* dy, const S* x, S* dx, const float* mean, const float* a,
                       const float* c0, const float* c1, bool stream) {
  F8 g[kTileVectors];
  load_tile(dy, g);
  if constexpr (kWithX) {
    F8 v[kTileVectors];
    load_tile(x, v);
    for (int k = 0; k < kTileVectors; ++k)
      g[k] = (load8(a + 8 * k) * g[k] + load8(c0 + 8 * k)) +
             (v[k] - load8(mean + 8 * k)) * load8(c1 + 8 * k);
  } else {
    for (int k = 0; k < kTileVectors; ++k) g[k] = load8(a + 8 * k) * g[k] + load8(c0 + 8 * k);
  }
  put_tile(dx, g, stream);
}

}  // namespace normcheck::cpu
