// Fixed-width SIMD through GCC vector extensions: 64-byte vectors (16 f32 or
// 8 f64 lanes) that the compiler lowers to AVX-512, AVX2 or SSE2 depending
// on the target of the function they are inlined into. Kernels are compiled
// for several targets with NC_SIMD_CLONES and picked at load time by the
// CPU's features, so one binary runs on any x86-64.
//
// The lane structure is fixed by the source, not by the ISA, and there is
// no FMA contraction (ISO C++ mode): every clone computes the same bits.
#pragma once

#include <emmintrin.h>  // SSE2 streaming stores: baseline x86-64, usable in every clone

#include <bit>
#include <cstdint>
#include <cstring>

#include "normcheck/numeric/fast_float16.hpp"
#include "normcheck/support/storage.hpp"

#define NC_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
// Hot helpers must be inlined into the clones to get the clone's ISA.
#define NC_INLINE __attribute__((always_inline)) inline

namespace normcheck::cpu {

using support::bf16_t;
using support::compute_t;
using support::f16_t;
using support::narrow;
using support::widen;

template <class T>
struct Simd;
template <>
struct Simd<float> {
  typedef float vec __attribute__((vector_size(64)));
  typedef std::uint32_t bits __attribute__((vector_size(64)));
  typedef std::uint16_t half_bits __attribute__((vector_size(32)));
  static constexpr std::int64_t lanes = 16;
};
template <>
struct Simd<double> {
  typedef double vec __attribute__((vector_size(64)));
  static constexpr std::int64_t lanes = 8;
};

template <class T>
using Vec = typename Simd<T>::vec;
template <class T>
inline constexpr std::int64_t kLanes = Simd<T>::lanes;

template <class T>
NC_INLINE Vec<T> splat(T x) {
  Vec<T> v;
  for (std::int64_t i = 0; i < kLanes<T>; ++i) v[i] = x;
  return v;
}

// Sum of the lanes in a fixed pairwise order.
template <class T>
NC_INLINE T hsum(Vec<T> v) {
  T a[kLanes<T>];
  std::memcpy(a, &v, sizeof v);
  for (std::int64_t width = kLanes<T> / 2; width >= 1; width /= 2)
    for (std::int64_t i = 0; i < width; ++i) a[i] += a[i + width];
  return a[0];
}

// Clamps negative lanes to zero; NaN stays NaN.
template <class T>
NC_INLINE Vec<T> clamp_negative(Vec<T> v) {
  return v < T(0) ? splat(T(0)) : v;
}

NC_INLINE Vec<double> vload(const double* p) {
  Vec<double> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
NC_INLINE Vec<float> vload(const float* p) {
  Vec<float> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
NC_INLINE Simd<float>::bits load_half_bits(const void* p) {
  Simd<float>::half_bits h;
  std::memcpy(&h, p, sizeof h);
  return __builtin_convertvector(h, Simd<float>::bits);
}
NC_INLINE Vec<float> vload(const bf16_t* p) {
  return numeric::fast::bf16_bits_to_f32<Simd<float>::bits, Vec<float>>(load_half_bits(p));
}
NC_INLINE Vec<float> vload(const f16_t* p) {
  return numeric::fast::f16_bits_to_f32<Simd<float>::bits, Vec<float>>(load_half_bits(p));
}

NC_INLINE void vstore(double* p, Vec<double> v) {
  std::memcpy(p, &v, sizeof v);
}
NC_INLINE void vstore(float* p, Vec<float> v) {
  std::memcpy(p, &v, sizeof v);
}
NC_INLINE void store_half_bits(void* p, Simd<float>::bits u) {
  const auto h = __builtin_convertvector(u, Simd<float>::half_bits);
  std::memcpy(p, &h, sizeof h);
}
NC_INLINE void vstore(bf16_t* p, Vec<float> v) {
  store_half_bits(p, numeric::fast::f32_to_bf16_bits<Simd<float>::bits, Vec<float>>(v));
}
NC_INLINE void vstore(f16_t* p, Vec<float> v) {
  store_half_bits(p, numeric::fast::f32_to_f16_bits<Simd<float>::bits, Vec<float>>(v));
}

// bf16 in pairs: 32 consecutive values loaded as 16 32-bit words give two
// f32 vectors, the even elements (2k, word << 16) and the odd ones (2k + 1,
// the word's high half), in one integer operation each and in every ISA;
// the 16-to-32-bit widening of vload costs several shuffles. Stores put the
// halves back the same way. Kernels that use pairs keep per-element
// parameters in pair order (see pair_order in row_norm.cpp).
struct PairF32 {
  Vec<float> even, odd;
};
NC_INLINE PairF32 vload_pair(const bf16_t* p) {
  Simd<float>::bits w;
  std::memcpy(&w, p, sizeof w);
  return {std::bit_cast<Vec<float>>(w << 16), std::bit_cast<Vec<float>>(w & 0xffff0000u)};
}
// f32 -> bf16 rounded to nearest even, NaN made quiet, as
// numeric::fast::f32_to_bf16_bits, but left in the high half of the word.
NC_INLINE Simd<float>::bits bf16_in_high_half(Vec<float> f) {
  const auto u = std::bit_cast<Simd<float>::bits>(f);
  const auto rounded = u + 0x7fffu + ((u >> 16) & 1u);
  return f != f ? (u | 0x00400000u) : rounded;  // NaN: quiet, payload kept
}
NC_INLINE Simd<float>::bits pack_pair(Vec<float> even, Vec<float> odd) {
  return (bf16_in_high_half(even) >> 16) | (bf16_in_high_half(odd) & 0xffff0000u);
}

// Non-temporal (streaming) stores, for outputs far larger than the caches:
// a regular store first reads the line it writes (read for ownership), a
// streaming one does not, which saves a third of the traffic of a
// read-one-write-one pass. p must be 16-byte aligned. Built from 16-byte
// SSE2 stores so every clone can use them; the CPU's write-combining
// buffers merge them into full lines. Call stream_fence() before the
// results are handed to another thread.
template <class Part, class V, class Store>
NC_INLINE void stream_parts(void* p, const V& v, Store store) {
  Part parts[sizeof(V) / 16];
  std::memcpy(parts, &v, sizeof v);
  for (std::size_t i = 0; i < sizeof(V) / 16; ++i) store(static_cast<char*>(p) + 16 * i, parts[i]);
}
NC_INLINE void vstream(double* p, Vec<double> v) {
  stream_parts<__m128d>(p, v,
                        [](void* q, __m128d x) { _mm_stream_pd(static_cast<double*>(q), x); });
}
NC_INLINE void vstream(float* p, Vec<float> v) {
  stream_parts<__m128>(p, v, [](void* q, __m128 x) { _mm_stream_ps(static_cast<float*>(q), x); });
}
NC_INLINE void stream_half_bits(void* p, Simd<float>::bits u) {
  const auto h = __builtin_convertvector(u, Simd<float>::half_bits);
  stream_parts<__m128i>(p, h,
                        [](void* q, __m128i x) { _mm_stream_si128(static_cast<__m128i*>(q), x); });
}
NC_INLINE void vstream(bf16_t* p, Vec<float> v) {
  stream_half_bits(p, numeric::fast::f32_to_bf16_bits<Simd<float>::bits, Vec<float>>(v));
}
NC_INLINE void vstream(f16_t* p, Vec<float> v) {
  stream_half_bits(p, numeric::fast::f32_to_f16_bits<Simd<float>::bits, Vec<float>>(v));
}
// A hint to fetch the cache line holding p. Every kernel reads its run (a
// row, a plane) from memory in its first pass and then computes on it in
// L1; without a hint the next run's memory traffic only starts when that
// computing is done, so a core alternates between waiting on memory and
// computing. Touching the next run during a pass that works from L1
// overlaps the two. Changes timing only, never results; callers keep the
// address inside the tensor.
NC_INLINE void prefetch_line(const void* p) {
  __builtin_prefetch(p);
}

NC_INLINE void vput_pair(bf16_t* p, Vec<float> even, Vec<float> odd, bool stream) {
  const auto w = pack_pair(even, odd);
  if (stream)
    stream_parts<__m128i>(
        p, w, [](void* q, __m128i x) { _mm_stream_si128(static_cast<__m128i*>(q), x); });
  else
    std::memcpy(p, &w, sizeof w);
}

inline void stream_fence() {
  _mm_sfence();
}

// A vector store, streaming when the caller decided so (see should_stream).
template <class S, class V>
NC_INLINE void vput(S* p, V v, bool stream) {
  if (stream)
    vstream(p, v);
  else
    vstore(p, v);
}

// Stream an output when it is much larger than the last-level cache share
// and every vector store lands 16-byte aligned: its base is aligned and
// each contiguous run (row, plane, NHWC row) is a multiple of 16 bytes.
inline bool should_stream(const void* base, std::int64_t total_bytes, std::int64_t run_bytes) {
  constexpr std::int64_t threshold = 8ll << 20;
  return total_bytes >= threshold && reinterpret_cast<std::uintptr_t>(base) % 16 == 0 &&
         run_bytes % 16 == 0;
}

}  // namespace normcheck::cpu
