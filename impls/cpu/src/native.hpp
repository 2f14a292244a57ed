// 32-byte vectors, and the 16 lanes of Vec<float> carried as two of them.
//
// GCC 12 keeps a loop-carried 64-byte vector (Vec<float>, or a struct
// holding one) in memory when the clone has no 512-bit registers, moving it
// through the stack and general registers on every iteration (AVX2 and
// baseline clones); a store of one whose path depends on a runtime flag
// goes the same way. 32-byte vectors are native in the AVX2 and AVX-512
// clones and stay in registers, and so does a struct of two of them.
//
// Halves is Vec<float> lane for lane: lanes 0-7 in lo, 8-15 in hi. Every
// operation is lane-wise and hsum adds the lanes in hsum's order, so code
// written with Halves computes the same bits as the same code with
// Vec<float>, in every clone.
#pragma once

#include <cstdint>
#include <cstring>

#include "simd.hpp"

namespace normcheck::cpu {

typedef float F8 __attribute__((vector_size(32)));
typedef std::uint32_t U8 __attribute__((vector_size(32)));
typedef std::uint16_t H8 __attribute__((vector_size(16)));

NC_INLINE F8 load8(const float* p) {
  F8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
NC_INLINE void store8(float* p, F8 v) {
  std::memcpy(p, &v, sizeof v);
}
NC_INLINE U8 load_words8(const void* p) {
  U8 w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
// 8 16-bit values widened to 32-bit lanes.
NC_INLINE U8 load_half_bits8(const void* p) {
  H8 h;
  std::memcpy(&h, p, sizeof h);
  return __builtin_convertvector(h, U8);
}
// Streaming (p 16-byte aligned) or regular stores; see should_stream.
NC_INLINE void put8(float* p, F8 v, bool stream) {
  if (stream)
    stream_parts<__m128>(p, v, [](void* q, __m128 x) { _mm_stream_ps(static_cast<float*>(q), x); });
  else
    store8(p, v);
}
NC_INLINE void put_words8(void* p, U8 w, bool stream) {
  if (stream)
    stream_parts<__m128i>(
        p, w, [](void* q, __m128i x) { _mm_stream_si128(static_cast<__m128i*>(q), x); });
  else
    std::memcpy(p, &w, sizeof w);
}
// 8 32-bit lanes narrowed to their low 16 bits and stored.
NC_INLINE void put_half_bits8(void* p, U8 u, bool stream) {
  const H8 h = __builtin_convertvector(u, H8);
  if (stream)
    _mm_stream_si128(static_cast<__m128i*>(p), std::bit_cast<__m128i>(h));
  else
    std::memcpy(p, &h, sizeof h);
}

struct Halves {
  F8 lo, hi;
};
NC_INLINE Halves operator+(Halves a, Halves b) {
  return {a.lo + b.lo, a.hi + b.hi};
}
NC_INLINE Halves operator-(Halves a, Halves b) {
  return {a.lo - b.lo, a.hi - b.hi};
}
NC_INLINE Halves operator*(Halves a, Halves b) {
  return {a.lo * b.lo, a.hi * b.hi};
}
NC_INLINE Halves& operator+=(Halves& a, Halves b) {
  return a = a + b;
}
NC_INLINE Halves splat_halves(float x) {
  const F8 v = F8{} + x;
  return {v, v};
}
// hsum<float>'s order: lane i + lane i + 8 first, then pairwise.
NC_INLINE float hsum(Halves v) {
  return lane_sum(v.lo + v.hi);
}

// The 16 values at p as f32 (vload).
NC_INLINE Halves load_halves(const float* p) {
  return {load8(p), load8(p + 8)};
}
NC_INLINE Halves load_halves(const bf16_t* p) {
  return {std::bit_cast<F8>(load_half_bits8(p) << 16),
          std::bit_cast<F8>(load_half_bits8(p + 8) << 16)};
}
// Whether any of the 8 lanes has its sign bit set: folded from 8 lanes to
// 4 and read by movmskps (SSE: every clone has it).
NC_INLINE bool any_sign_bit(U8 lanes) {
  typedef std::uint32_t U4 __attribute__((vector_size(16)));
  const U4 folded = __builtin_shufflevector(lanes, lanes, 0, 1, 2, 3) |
                    __builtin_shufflevector(lanes, lanes, 4, 5, 6, 7);
  return _mm_movemask_ps(std::bit_cast<__m128>(folded)) != 0;
}
// f16_bits_to_f32 selects per lane between the finite re-biasing and the
// infinity / NaN encoding; where no lane of the 16 is either (one test),
// the re-biasing alone gives the same bits.
NC_INLINE F8 finite_f16_bits_to_f32(U8 h) {
  return std::bit_cast<F8>(
      std::bit_cast<U8>(std::bit_cast<F8>((h & 0x7fffu) << 13) * 0x1p112f) | ((h & 0x8000u) << 16));
}
NC_INLINE Halves load_halves(const f16_t* p) {
  const U8 lo = load_half_bits8(p), hi = load_half_bits8(p + 8);
  // Below zero where a magnitude is 0x7c00 (infinity) or above (NaN).
  const U8 special = (0x7bffu - (lo & 0x7fffu)) | (0x7bffu - (hi & 0x7fffu));
  if (__builtin_expect(!any_sign_bit(special), 1))
    return {finite_f16_bits_to_f32(lo), finite_f16_bits_to_f32(hi)};
  return {f16_bits_to_f32(lo), f16_bits_to_f32(hi)};
}
// The even and the odd elements of 16 bf16 values loaded as 8 words.
NC_INLINE F8 bf16_even8(U8 w) {
  return std::bit_cast<F8>(w << 16);
}
NC_INLINE F8 bf16_odd8(U8 w) {
  return std::bit_cast<F8>(w & 0xffff0000u);
}
// 32 bf16 values as their even and odd elements (vload_pair), built
// straight into the caller's pair type R ({even, odd} of Halves: WidePair,
// Block) rather than copied member by member from another pair: GCC 12
// did not break such nested copies of Halves up into registers and moved
// each 32-byte half through the stack and general registers (bn / gn
// bf16 NCHW forwards, AVX2 clone: 0.61 / 0.65 of the time without the
// copies; reports/perf.md, issue 17, session 21).
template <class R>
NC_INLINE R load_pair_halves_as(const bf16_t* p) {
  const U8 w0 = load_words8(p), w1 = load_words8(p + 16);
  return {{bf16_even8(w0), bf16_even8(w1)}, {bf16_odd8(w0), bf16_odd8(w1)}};
}

// Whether a lane of p is NaN: its unordered lanes (all bits set) read by
// any_sign_bit.
NC_INLINE bool any_nan(F8 p) {
  return any_sign_bit(std::bit_cast<U8>(p != p));
}
// Whether a lane of a or b may be NaN, tested on their product: a product
// is NaN where a factor is, so no NaN goes unseen, and otherwise only
// where infinity meets zero (a factor's own or an overflowed product's
// meeting an underflowed one), a false alarm that takes the exact path.
// One multiply per pair of vectors instead of a compare and an OR, and
// one fold and movmskps per store (reports/perf.md, issue 17, session 23).
// The products can raise the overflow, underflow and invalid status flags
// where the stored values do not: nothing here reads the flags, and they
// trap only where a caller unmasks FP exceptions.
NC_INLINE bool may_be_nan(F8 a, F8 b) {
  return any_nan(a * b);
}
NC_INLINE bool may_be_nan(F8 a, F8 b, F8 c, F8 d) {
  return any_nan((a * b) * (c * d));
}
// 16 bf16 values from their even and odd elements (vput_pair's packing).
// AVX2 has no bf16 conversion, and pack_pair's integer rounding spends
// more than half of its operations on NaN (a mask and a select per
// vector); one test per pair of vectors and, where a lane is NaN, a
// rarely taken branch to pack_pair gives the same bits (reports/perf.md,
// issue 17, session 22).
NC_INLINE U8 pack_pair8(F8 even, F8 odd) {
  if (__builtin_expect(may_be_nan(even, odd), 0)) return pack_pair(even, odd);
  return pack_pair_no_nan(even, odd);
}
// Stores 16 values, rounded to the storage type as vstore does.
NC_INLINE void put_halves(float* p, Halves v, bool stream) {
  put8(p, v.lo, stream);
  put8(p + 8, v.hi, stream);
}
NC_INLINE void put_halves(bf16_t* p, Halves v, bool stream) {
  if (__builtin_expect(may_be_nan(v.lo, v.hi), 0)) {  // see pack_pair8
    put_half_bits8(p, bf16_in_high_half(v.lo) >> 16, stream);
    put_half_bits8(p + 8, bf16_in_high_half(v.hi) >> 16, stream);
  } else {
    put_half_bits8(p, bf16_rounded_in_high_half(v.lo) >> 16, stream);
    put_half_bits8(p + 8, bf16_rounded_in_high_half(v.hi) >> 16, stream);
  }
}
// Whether every lane of a and b rounds to a normal finite f16: |x| in
// [2^-14, 65520), magnitude bits a in [0x38800000, 0x477fefff]. Both
// differences are below zero where a lane is out of that range (a <
// 2^31, so neither wraps), and their OR keeps the sign.
NC_INLINE bool all_normal_f16(F8 a, F8 b) {
  const U8 ma = std::bit_cast<U8>(a) & 0x7fffffffu, mb = std::bit_cast<U8>(b) & 0x7fffffffu;
  return !any_sign_bit(((ma - 0x38800000u) | (0x477fefffu - ma)) |
                       ((mb - 0x38800000u) | (0x477fefffu - mb)));
}
// f32_to_f16_bits of lanes that all round to normal finite f16
// (all_normal_f16): its re-biasing and rounding alone.
NC_INLINE U8 f32_to_normal_f16_bits(F8 f) {
  const U8 u = std::bit_cast<U8>(f);
  const U8 a = u & 0x7fffffffu;
  return ((a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13) | ((u >> 16) & 0x8000u);
}
// f32_to_f16_bits spends most of its operations on the lanes that are not
// normal (subnormal, overflow, NaN: three selections per lane); one range
// test per 16 values and, where a lane is outside it, a rarely taken branch
// to the whole conversion give the same bits.
NC_INLINE void put_halves(f16_t* p, Halves v, bool stream) {
  if (__builtin_expect(all_normal_f16(v.lo, v.hi), 1)) {
    put_half_bits8(p, f32_to_normal_f16_bits(v.lo), stream);
    put_half_bits8(p + 8, f32_to_normal_f16_bits(v.hi), stream);
  } else {
    put_half_bits8(p, f32_to_f16_bits(v.lo), stream);
    put_half_bits8(p + 8, f32_to_f16_bits(v.hi), stream);
  }
}
// 32 bf16 values from their even and odd elements (vput_pair).
// One NaN test for the 32 (see pack_pair8).
NC_INLINE void put_pair_halves(bf16_t* p, Halves even, Halves odd, bool stream) {
  if (__builtin_expect(may_be_nan(even.lo, odd.lo, even.hi, odd.hi), 0)) {
    put_words8(p, pack_pair(even.lo, odd.lo), stream);
    put_words8(p + 16, pack_pair(even.hi, odd.hi), stream);
  } else {
    put_words8(p, pack_pair_no_nan(even.lo, odd.lo), stream);
    put_words8(p + 16, pack_pair_no_nan(even.hi, odd.hi), stream);
  }
}

}  // namespace normcheck::cpu
