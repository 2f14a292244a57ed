// Per-channel reductions over the rows of a channels-last block, 32
// channels at a time with the accumulators in registers.
//
// In 32-byte vectors, which stay in registers (see native.hpp). Every
// channel has its own accumulator, summed over rows in row order, so the
// vector width decides nothing about the results: a channel's bits are
// those of the scalar loop over its rows, in every clone and in the
// 64-byte per-channel walk.
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

// Lines of a tile's storage at p for the next block (see prefetch_line).
template <class S>
NC_INLINE void prefetch_tile(const S* p) {
  prefetch_line(p);
  if constexpr (kTileChannels * sizeof(S) > 64) prefetch_line(p + 64 / sizeof(S));
}

// Two-pass moments of one tile's channels over `rows` rows from p on (row
// stride C), the block resident in L1/L2 between the passes: mean and the
// corrected m2 = sum(d^2) - (sum d)^2 / rows, d = x - mean (as in
// run_moments), clamped at zero. The next block's lines at `ahead` are
// fetched during the second pass.
template <class S>
NC_INLINE void tile_moments(const S* p, std::int64_t rows, std::int64_t C, float inv,
                            const S* ahead, std::int64_t ahead_rows, float* mean_out,
                            float* m2_out) {
  F8 sum[kTileVectors] = {};
  for (std::int64_t r = 0; r < rows; ++r) {
    F8 v[kTileVectors];
    load_tile(p + r * C, v);
    for (int k = 0; k < kTileVectors; ++k) sum[k] += v[k];
  }
  F8 mean[kTileVectors];
  for (int k = 0; k < kTileVectors; ++k) mean[k] = sum[k] * inv;
  F8 sum_d[kTileVectors] = {}, sum_d2[kTileVectors] = {};
  for (std::int64_t r = 0; r < rows; ++r) {
    if (r < ahead_rows) prefetch_tile(ahead + r * C);
    F8 v[kTileVectors];
    load_tile(p + r * C, v);
    for (int k = 0; k < kTileVectors; ++k) {
      const F8 d = v[k] - mean[k];
      sum_d[k] += d;
      sum_d2[k] += d * d;
    }
  }
  F8 m2[kTileVectors];
  for (int k = 0; k < kTileVectors; ++k)
    m2[k] = clamp_negative_f32(sum_d2[k] - sum_d[k] * sum_d[k] * inv);
  store_tile(mean_out, mean);
  store_tile(m2_out, m2);
}

// sum(dy) and sum(dy * (x - mean)) of one tile's channels over `rows` rows
// (mean: the tile's per-channel means, in slot order). The next block's
// lines of dy and x are fetched meanwhile.
template <class S>
NC_INLINE void tile_backward_sums(const S* dy, const S* x, std::int64_t rows, std::int64_t C,
                                  const float* mean, const S* dy_ahead, const S* x_ahead,
                                  std::int64_t ahead_rows, float* sum_dy_out, float* sum_dy_d_out) {
  F8 m[kTileVectors], s1[kTileVectors] = {}, s2[kTileVectors] = {};
  for (int k = 0; k < kTileVectors; ++k) m[k] = load8(mean + 8 * k);
  for (std::int64_t r = 0; r < rows; ++r) {
    if (r < ahead_rows) {
      prefetch_tile(dy_ahead + r * C);
      prefetch_tile(x_ahead + r * C);
    }
    F8 g[kTileVectors], v[kTileVectors];
    load_tile(dy + r * C, g);
    load_tile(x + r * C, v);
    for (int k = 0; k < kTileVectors; ++k) {
      s1[k] += g[k];
      s2[k] += g[k] * (v[k] - m[k]);
    }
  }
  store_tile(sum_dy_out, s1);
  store_tile(sum_dy_d_out, s2);
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
