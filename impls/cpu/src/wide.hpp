// The vectors the kernels compute with (runs.hpp, the row norms,
// channel_tiles.hpp), and their loads and stores, chosen by a kit (one per
// build, kernel_isa.hpp): Wide<T, K> for the compute type T.
//
// f32 comes in two widths with the same 16 lanes: Halves (native.hpp, two
// 32-byte vectors: registers in every clone) and Vec<float> (one 64-byte
// vector: registers only in code compiled for AVX-512; GCC 12 spills it
// through memory elsewhere). Lane i holds the same element in both, every
// operation is lane-wise, wsum adds the lanes in one order and the bf16
// pairs put the same elements in the same lanes, so code written once over
// a kit computes the same bits with any kit (NaN results are NaN in all,
// their sign and payload unspecified: x86 returns the first operand's NaN
// of two, and the compiler orders commutative operands per build). f64 is
// Vec<double> in all.
#pragma once

// Declares the AVX-512 builtins used below (GCC registers them with the
// intrinsics headers' target sections).
#include <immintrin.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "native.hpp"
#include "simd.hpp"

namespace normcheck::cpu {

// The kits. f32: the vectors of the runs and rows; tile: the vectors of
// channel_tiles.hpp's 32-channel tiles; native_bf16: bf16 pairs rounded by
// vcvtne2ps2bf16 (only in code compiled with NC_TARGET_AVX512_BF16). Kits
// with 64-byte vectors also convert f16 in hardware (native_load_f16).
struct Kit32 {
  using f32 = Halves;
  using tile = F8;
  static constexpr bool native_bf16 = false;
};
struct Kit64 {
  using f32 = Vec<float>;
  using tile = Vec<float>;
  static constexpr bool native_bf16 = false;
};
struct Kit64Bf16 {
  using f32 = Vec<float>;
  using tile = Vec<float>;
  static constexpr bool native_bf16 = true;
};
// Whether kit K holds 16 lanes in one 64-byte vector: the AVX-512 builds.
template <class K>
inline constexpr bool kVector64 = !std::is_same_v<typename K::f32, Halves>;

template <class T, class K>
struct WideOf {
  using type = Vec<T>;
};
template <class K>
struct WideOf<float, K> {
  using type = typename K::f32;
};
template <class T, class K = Kit32>
using Wide = typename WideOf<T, K>::type;

template <class W, class T>
NC_INLINE W wsplat(T x) {
  if constexpr (std::is_same_v<W, Halves>)
    return splat_halves(x);
  else
    return W{} + x;
}

// f16 in the 64-byte builds (every AVX-512 CPU has F16C): vcvtph2ps and
// vcvtps2ph (round to nearest even) give numeric::fast's bits for every
// value but NaN (checked on all 65536 patterns and every f32 rounding
// point): vcvtph2ps makes signalling NaNs quiet, vcvtps2ph keeps a NaN's
// top payload bits where numeric::fast gives 0x7e00. A vector holding a
// NaN (vfpclassps) takes the integer conversion. About a tenth of the
// integer form's instructions; the builtins are checked where the code is
// finally compiled (see native_pack_pair).
typedef short F16Words __attribute__((vector_size(32)));
inline constexpr int kAnyNaN = 0x81;    // vfpclassps categories: quiet, signalling NaN
inline constexpr short kAllLanes = -1;  // a 16-lane mask with every bit set
NC_INLINE Vec<float> native_load_f16(const f16_t* p) {
  F16Words h;
  std::memcpy(&h, p, sizeof h);
  const Vec<float> f =
      __builtin_ia32_vcvtph2ps512_mask(h, Vec<float>{}, kAllLanes, _MM_FROUND_CUR_DIRECTION);
  if (__builtin_expect(__builtin_ia32_fpclassps512_mask(f, kAnyNaN, 0xffff) != 0, 0))
    return vload(p);
  return f;
}
NC_INLINE void native_put_f16(f16_t* p, Vec<float> v, bool stream) {
  if (__builtin_expect(__builtin_ia32_fpclassps512_mask(v, kAnyNaN, 0xffff) != 0, 0)) {
    vput(p, v, stream);
    return;
  }
  constexpr int kNearestEven = 0;
  const F16Words h = __builtin_ia32_vcvtps2ph512_mask(v, kNearestEven, F16Words{}, 0xffff);
  if (stream)
    stream_parts<__m128i>(
        p, h, [](void* q, __m128i x) { _mm_stream_si128(static_cast<__m128i*>(q), x); });
  else
    std::memcpy(p, &h, sizeof h);
}

// The kLanes values at p in the compute type.
template <class W, class S>
NC_INLINE W wload(const S* p) {
  if constexpr (std::is_same_v<W, F8>)
    return load8(p);  // f32 only: half of a Halves
  else if constexpr (std::is_same_v<W, Halves>)
    return load_halves(p);
  else if constexpr (std::is_same_v<S, f16_t>)
    return native_load_f16(p);  // W is Vec<float>: only the 64-byte builds
  else
    return vload(p);
}

NC_INLINE double wsum(Vec<double> v) {
  return hsum<double>(v);
}
NC_INLINE float wsum(Vec<float> v) {
  return hsum<float>(v);
}
NC_INLINE float wsum(Halves v) {
  return hsum(v);
}

// Stores rounded to the storage type, streaming when the caller decided so
// (see should_stream).
template <class S>
NC_INLINE void wput(S* p, Vec<compute_t<S>> v, bool stream) {
  if constexpr (std::is_same_v<S, f16_t>)
    native_put_f16(p, v, stream);  // Vec<float> for f16: only the 64-byte builds
  else
    vput(p, v, stream);
}
template <class S>
NC_INLINE void wput(S* p, Halves v, bool stream) {
  put_halves(p, v, stream);
}
NC_INLINE void wput(float* p, F8 v, bool stream) {
  put8(p, v, stream);
}

// A 64-byte vector of the 64-byte builds streamed as one store where p
// starts a line (vmovntps / vmovntdq zmm fault otherwise), else as four
// 16-byte ones (should_stream promises 16-byte alignment).
NC_INLINE void stream_line(float* p, Vec<float> v) {
  if (reinterpret_cast<std::uintptr_t>(p) % 64 == 0)
    __builtin_ia32_movntps512(p, v);
  else
    vstream(p, v);
}
NC_INLINE void stream_line(bf16_t* p, Bits w) {
  typedef long long Lines __attribute__((vector_size(64)));
  if (reinterpret_cast<std::uintptr_t>(p) % 64 == 0)
    __builtin_ia32_movntdq512(reinterpret_cast<Lines*>(p), std::bit_cast<Lines>(w));
  else
    stream_parts<__m128i>(
        p, w, [](void* q, __m128i x) { _mm_stream_si128(static_cast<__m128i*>(q), x); });
}

// As wput, but an f32 vector of the 64-byte builds streams whole lines
// (stream_line), not four 16-byte pieces. For a thread that writes one
// row at a time: ln / rms f32 8192x768 forwards took 0.81-0.92 of the
// time (three runs). Not everywhere: with it in every f32 store, the
// 8192x4096 forwards (four rows in lockstep) ran 1.10-1.24 slower in two
// of four runs and the 8192x768 backward's dx 1.08-1.12 (reports/perf.md,
// issue 17, session 17). bf16 rows stream whole lines already (wput_pair).
template <class S, class W>
NC_INLINE void wput_line(S* p, W v, bool stream) {
  if constexpr (std::is_same_v<S, float> && std::is_same_v<W, Vec<float>>) {
    if (stream)
      stream_line(p, v);
    else
      vstore(p, v);
  } else {
    wput(p, v, stream);
  }
}

// 2 * kLanes bf16 values as their even and their odd elements (vload_pair).
template <class W>
struct WidePair {
  W even, odd;
};
template <class W>
NC_INLINE WidePair<W> wload_pair(const bf16_t* p) {
  if constexpr (std::is_same_v<W, Halves>) {
    return load_pair_halves_as<WidePair<W>>(p);
  } else {
    const auto v = vload_pair(p);
    return {v.even, v.odd};
  }
}

// vcvtne2ps2bf16 rounds to nearest even and makes NaN quiet exactly as
// bf16_in_high_half does, but reads subnormal inputs as zero (f32
// 0x00012345 gives bf16 0x0000, not 0x0001). vfpclassps flags those lanes,
// and a pair holding one is packed the integer way: same bits as every
// other build, at the integer path's cost only where subnormals occur.
// GCC's builtins rather than the intrinsics: an intrinsic is a function
// with its own target and cannot be inlined into the kit-generic helpers
// that call this; a builtin is checked where the code is finally compiled,
// inside the NC_TARGET_AVX512_BF16 entry point.
NC_INLINE Bits native_pack_pair(Vec<float> even, Vec<float> odd) {
  typedef short Words __attribute__((vector_size(64)));
  // Words 0-15: even's bf16, 16-31: odd's; interleaved to even, odd, ...
  const Words halves = __builtin_ia32_cvtne2ps2bf16_v32hi(odd, even);
  const Words interleave = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                            8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  constexpr int kSubnormal = 0x20;  // vfpclassps category: denormal
  const unsigned subnormal = __builtin_ia32_fpclassps512_mask(even, kSubnormal, 0xffff) |
                             __builtin_ia32_fpclassps512_mask(odd, kSubnormal, 0xffff);
  if (__builtin_expect(subnormal != 0, 0)) return pack_pair(even, odd);
  return std::bit_cast<Bits>(__builtin_shuffle(halves, interleave));
}

// bf16 values from their even and odd elements (vput_pair): 16 from two
// 8-lane vectors, 32 from two of 16 lanes.
template <class K>
NC_INLINE void wput_pair(bf16_t* p, F8 even, F8 odd, bool stream) {
  put_words8(p, pack_pair8(even, odd), stream);
}
template <class K>
NC_INLINE void wput_pair(bf16_t* p, Halves even, Halves odd, bool stream) {
  put_pair_halves(p, even, odd, stream);
}
template <class K>
NC_INLINE void wput_pair(bf16_t* p, Vec<float> even, Vec<float> odd, bool stream) {
  if constexpr (K::native_bf16) {
    const auto w = native_pack_pair(even, odd);
    if (stream)
      stream_line(p, w);
    else
      std::memcpy(p, &w, sizeof w);
  } else {
    vput_pair(p, even, odd, stream);
  }
}

}  // namespace normcheck::cpu
