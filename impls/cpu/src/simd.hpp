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
#include <type_traits>

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
  typedef std::int32_t signed_bits __attribute__((vector_size(64)));
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

// Sum of the lanes of a vector of any width in a fixed pairwise order: the
// upper half added to the lower half, lane by lane, until one lane is left.
// Written on ever narrower vectors (extract and add) rather than on an
// array: GCC 12 compiled the array form to a loop of scalar additions
// through the stack, 15 dependent ones per 16 lanes, a sizeable part of a
// 768-column row (perf, reports/perf.md issue 17). Same additions either way.
template <class V>
NC_INLINE auto lane_sum(V v) {
  using E = std::remove_cvref_t<decltype(v[0])>;
  constexpr std::size_t n = sizeof(V) / sizeof(E);
  if constexpr (n == 1) {
    return E(v[0]);
  } else if constexpr (sizeof(V) <= 16) {
    E a[n];
    std::memcpy(a, &v, sizeof v);
    for (std::size_t width = n / 2; width >= 1; width /= 2)
      for (std::size_t i = 0; i < width; ++i) a[i] += a[i + width];
    return a[0];
  } else {
    typedef E Half __attribute__((vector_size(sizeof(V) / 2)));
    Half lo, hi;
    std::memcpy(&lo, &v, sizeof lo);
    std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
    return lane_sum(lo + hi);
  }
}
template <class T>
NC_INLINE T hsum(Vec<T> v) {
  return lane_sum(v);
}

// Lane masks without vector compares. GCC 12 lowers a compare or a ?: on a
// 64-byte vector element by element (extract, compare, cmov, insert) when
// the clone has no 512-bit registers, i.e. in the AVX2 and baseline clones;
// integer subtraction, arithmetic shift and bitwise selection split into
// native halves instead. Operands below stay in [0, 2^31), so a difference
// is negative exactly when the comparison holds; results are the same bits
// as the compare forms.
// These helpers take f32 vectors of any width V (the 64-byte Vec<float>,
// and the 32-byte vectors of channel_tiles.hpp) with their 32-bit lanes as
// unsigned (BitsOf) or signed integers.
template <class V>
struct BitsOf {
  typedef std::uint32_t type __attribute__((vector_size(sizeof(V))));
  typedef std::int32_t signed_type __attribute__((vector_size(sizeof(V))));
  typedef float floats __attribute__((vector_size(sizeof(V))));
};
using Bits = Simd<float>::bits;
using SignedBits = Simd<float>::signed_bits;
// All ones where x - y < 0 (x, y in [0, 2^31)), else zero.
template <class B>
NC_INLINE B mask_if_negative(B difference) {
  return std::bit_cast<B>(std::bit_cast<typename BitsOf<B>::signed_type>(difference) >> 31);
}
template <class B>
NC_INLINE B select_bits(B mask, B if_set, B if_clear) {
  return (if_set & mask) | (if_clear & ~mask);
}

// Clamps negative f32 lanes to zero; NaN (of either sign) and -0 stay as
// they are, as with v < 0 ? 0 : v.
template <class V>
NC_INLINE V clamp_negative_f32(V v) {
  using B = typename BitsOf<V>::type;
  const auto u = std::bit_cast<B>(v);
  const B magnitude = u & 0x7fffffffu;
  const B below_zero = mask_if_negative(B{} - magnitude) &          // not +-0
                       mask_if_negative(magnitude - 0x7f800001u) &  // not NaN
                       mask_if_negative(u);                         // sign set
  return std::bit_cast<V>(u & ~below_zero);
}
template <class T>
NC_INLINE Vec<T> clamp_negative(Vec<T> v) {
  if constexpr (std::is_same_v<T, float>) {
    return clamp_negative_f32(v);
  } else {
    return v < T(0) ? splat(T(0)) : v;
  }
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
// The conversions of numeric::fast (fast_float16.hpp), same bits, with
// their ?: selections written as masks (see mask_if_negative).
template <class B>
NC_INLINE typename BitsOf<B>::floats f16_bits_to_f32(B h) {
  using Bits = B;
  using F = typename BitsOf<B>::floats;
  const Bits sign = (h & 0x8000u) << 16;
  const Bits magnitude = h & 0x7fffu;
  // Exact re-biasing of normal and subnormal f16 alike, as in numeric::fast.
  const Bits finite = std::bit_cast<Bits>(std::bit_cast<F>(magnitude << 13) * 0x1p112f);
  const Bits special = (magnitude << 13) | 0x7f800000u;  // inf, or NaN with its payload
  return std::bit_cast<F>(select_bits(mask_if_negative(0x7bffu - magnitude), special, finite) |
                          sign);
}
template <class V>
NC_INLINE typename BitsOf<V>::type f32_to_f16_bits(V f) {
  using Bits = typename BitsOf<V>::type;
  using F = V;
  const auto u = std::bit_cast<Bits>(f);
  const Bits sign = (u >> 16) & 0x8000u;
  const Bits a = u & 0x7fffffffu;
  // Subnormal or zero: one rounding addition; normal: re-bias and round to
  // nearest even (see numeric::fast::f32_to_f16_bits).
  const Bits subnormal = std::bit_cast<Bits>(std::bit_cast<F>(a) + 0.5f) - 0x3f000000u;
  const Bits normal = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;
  Bits bits = select_bits(mask_if_negative(a - 0x38800000u), subnormal, normal);
  const Bits inf = Bits{} + 0x7c00u, quiet_nan = Bits{} + 0x7e00u;
  bits = select_bits(mask_if_negative(0x477fefffu - a), inf, bits);  // >= 65520 rounds to inf
  bits = select_bits(mask_if_negative(0x7f800000u - a), quiet_nan, bits);
  return bits | sign;
}
NC_INLINE Vec<float> vload(const bf16_t* p) {
  return numeric::fast::bf16_bits_to_f32<Simd<float>::bits, Vec<float>>(load_half_bits(p));
}
NC_INLINE Vec<float> vload(const f16_t* p) {
  return f16_bits_to_f32(load_half_bits(p));
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
NC_INLINE Bits f32_to_bf16_bits(Vec<float> f);
NC_INLINE void vstore(bf16_t* p, Vec<float> v) {
  store_half_bits(p, f32_to_bf16_bits(v));
}
NC_INLINE void vstore(f16_t* p, Vec<float> v) {
  store_half_bits(p, f32_to_f16_bits(v));
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
// Lane-wise arithmetic on pairs, so generic per-channel bodies (see
// each_storage_channel in runs.hpp) serve them as they serve vectors.
NC_INLINE PairF32 operator+(PairF32 a, PairF32 b) {
  return {a.even + b.even, a.odd + b.odd};
}
NC_INLINE PairF32 operator-(PairF32 a, PairF32 b) {
  return {a.even - b.even, a.odd - b.odd};
}
NC_INLINE PairF32 operator*(PairF32 a, PairF32 b) {
  return {a.even * b.even, a.odd * b.odd};
}
NC_INLINE PairF32 operator*(PairF32 a, float b) {
  return {a.even * b, a.odd * b};
}
NC_INLINE PairF32 vload_pair(const bf16_t* p) {
  Simd<float>::bits w;
  std::memcpy(&w, p, sizeof w);
  return {std::bit_cast<Vec<float>>(w << 16), std::bit_cast<Vec<float>>(w & 0xffff0000u)};
}
// bf16_in_high_half's rounding alone, right for every lane that is not NaN
// (a NaN's payload carries into its exponent): callers that know there is
// none.
template <class V>
NC_INLINE typename BitsOf<V>::type bf16_rounded_in_high_half(V f) {
  using B = typename BitsOf<V>::type;
  const auto u = std::bit_cast<B>(f);
  return u + 0x7fffu + ((u >> 16) & 1u);
}
// f32 -> bf16 rounded to nearest even, NaN made quiet, as
// numeric::fast::f32_to_bf16_bits, but left in the high half of the word.
template <class V>
NC_INLINE typename BitsOf<V>::type bf16_in_high_half(V f) {
  using B = typename BitsOf<V>::type;
  const auto u = std::bit_cast<B>(f);
  const B nan = mask_if_negative(0x7f800000u - (u & 0x7fffffffu));
  // NaN: quiet, payload kept.
  return select_bits(nan, u | 0x00400000u, bf16_rounded_in_high_half(f));
}
NC_INLINE Bits f32_to_bf16_bits(Vec<float> f) {
  return bf16_in_high_half(f) >> 16;
}
template <class V>
NC_INLINE typename BitsOf<V>::type pack_pair(V even, V odd) {
  return (bf16_in_high_half(even) >> 16) | (bf16_in_high_half(odd) & 0xffff0000u);
}
// pack_pair of lanes none of which is NaN.
template <class V>
NC_INLINE typename BitsOf<V>::type pack_pair_no_nan(V even, V odd) {
  return (bf16_rounded_in_high_half(even) >> 16) | (bf16_rounded_in_high_half(odd) & 0xffff0000u);
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
  stream_half_bits(p, f32_to_bf16_bits(v));
}
NC_INLINE void vstream(f16_t* p, Vec<float> v) {
  stream_half_bits(p, f32_to_f16_bits(v));
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
// Where a prefetch puts a line. Into L1 while a kernel's working set
// (the run it computes on, the next one, its parameters) fits there with
// room to spare; into L2 beyond that, where lines fetched into L1 would
// evict the current run and the parameters the pass is still reading:
// ln/rms rows of 4096 bf16 or f32 (working sets of 48-64 KiB against this
// machine's 48 KiB L1) ran 8-18 % faster with L2 hints, rows of 768 (9-15
// KiB) 8-24 % slower (reports/perf.md, issue 17).
enum class PrefetchTo { l1, l2 };
PrefetchTo prefetch_level(std::int64_t working_set_bytes);
// Whether `bytes` fit in half of this CPU's L1 data cache (sysconf).
bool fits_half_of_l1(std::int64_t bytes);
// Whether `bytes` fit in this CPU's L1 data cache (sysconf).
bool fits_l1(std::int64_t bytes);

NC_INLINE void prefetch_line(const void* p, PrefetchTo to) {
  if (to == PrefetchTo::l1)
    __builtin_prefetch(p, 0, 3);
  else
    __builtin_prefetch(p, 0, 2);
}
// The lines of the n elements at p, one hint per 64 bytes: a second hint
// to a line already requested only costs an instruction.
template <std::int64_t n, class E>
NC_INLINE void prefetch_elements(const E* p, PrefetchTo to = PrefetchTo::l1) {
  for (std::size_t b = 0; b < n * sizeof(E); b += 64)
    prefetch_line(reinterpret_cast<const char*>(p) + b, to);
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

// Stream an output when the call's working set (`arrays` arrays of the
// output's size read or written: x and y, or x, dy and dx, ...) is over
// 32 MiB, about what a last-level cache slice holds (a Zen 5 CCD's L3;
// the VMs' sysconf reports the host's whole L3), and every vector store
// lands 16-byte aligned: its base is aligned and each contiguous run (row,
// plane, NHWC row) is a multiple of 16 bytes. Where the whole call stays
// in cache, regular stores leave y there for the next read; beyond it,
// streaming saves the write-allocate read. Measured against the former
// rule (output >= 8 MiB) on both 2-core machines (reports/perf.md): the
// 12.6 MB bf16 forwards ran 0.84-0.91 of the time unstreamed, while rows
// with a working set of 37 MB or more ran 1.04-1.24 slower unstreamed (one
// exception, left streamed: ln f32 8192x768 forward, 50 MB, 0.86-0.95).
inline constexpr std::int64_t kStreamWorkingSet = 32ll << 20;
inline bool should_stream(const void* base, std::int64_t output_bytes, std::int64_t arrays,
                          std::int64_t run_bytes) {
  return output_bytes * arrays >= kStreamWorkingSet &&
         reinterpret_cast<std::uintptr_t>(base) % 16 == 0 && run_bytes % 16 == 0;
}

}  // namespace normcheck::cpu
