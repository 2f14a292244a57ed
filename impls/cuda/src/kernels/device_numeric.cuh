// Device-side element types: storage <-> accumulation conversions (each
// narrowing rounds once, to nearest even), 16-byte vector access, and
// run-time-dtype access for the small per-row / per-channel tensors
// (statistics, gamma/beta of the channel ops).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "normcheck/numeric/dtype.hpp"

namespace normcheck::cuda::device {

using numeric::DType;

// f32 accumulation for f32/f16/bf16 storage, f64 for f64.
template <class T>
struct Accumulator {
  using type = float;
};
template <>
struct Accumulator<double> {
  using type = double;
};
template <class T>
using acc_t = typename Accumulator<T>::type;

__device__ __forceinline__ float widen(float v) {
  return v;
}
__device__ __forceinline__ double widen(double v) {
  return v;
}
__device__ __forceinline__ float widen(__half v) {
  return __half2float(v);
}
__device__ __forceinline__ float widen(__nv_bfloat16 v) {
  return __bfloat162float(v);
}

template <class T>
__device__ __forceinline__ T narrow(float v);
template <>
__device__ __forceinline__ float narrow<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ double narrow<double>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half narrow<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 narrow<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

template <class T>
__device__ __forceinline__ T narrow(double v);
template <>
__device__ __forceinline__ double narrow<double>(double v) {
  return v;
}
template <>
__device__ __forceinline__ float narrow<float>(double v) {
  return __double2float_rn(v);
}
// Straight from f64: going through f32 would round twice.
template <>
__device__ __forceinline__ __half narrow<__half>(double v) {
  return __double2half(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 narrow<__nv_bfloat16>(double v) {
  return __double2bfloat16(v);
}

template <class T, int N>
struct alignas(sizeof(T) * N) Vec {
  T v[N];
};

template <int N, class T>
__device__ __forceinline__ Vec<T, N> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, N>*>(p);
}

template <int N, class T>
__device__ __forceinline__ void store_vec(T* p, const Vec<T, N>& v) {
  *reinterpret_cast<Vec<T, N>*>(p) = v;
}

// One element of a tensor whose dtype is known only at run time; used for
// tensors with one element per row, group or channel, never per element.
__device__ __forceinline__ double load_any(DType t, const void* base, std::int64_t i) {
  switch (t) {
    case DType::f64:
      return static_cast<const double*>(base)[i];
    case DType::f32:
      return static_cast<const float*>(base)[i];
    case DType::f16:
      return __half2float(static_cast<const __half*>(base)[i]);
    case DType::bf16:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
  }
  return 0.0;
}

__device__ __forceinline__ void store_any(DType t, void* base, std::int64_t i, double v) {
  switch (t) {
    case DType::f64:
      static_cast<double*>(base)[i] = v;
      return;
    case DType::f32:
      static_cast<float*>(base)[i] = narrow<float>(v);
      return;
    case DType::f16:
      static_cast<__half*>(base)[i] = narrow<__half>(v);
      return;
    case DType::bf16:
      static_cast<__nv_bfloat16*>(base)[i] = narrow<__nv_bfloat16>(v);
      return;
  }
}

// A variance formed as a difference can round below zero; that is clamped
// to 0. NaN (a group holding NaN, or inf - inf) must stay NaN, as the
// goldens say: `v > 0 ? v : 0` and fmax would turn it into 0 and report
// rstd = 1/sqrt(eps) for a group with no defined statistics.
template <class A>
__device__ __forceinline__ A clamp_rounding_negative(A v) {
  return v < A(0) ? A(0) : v;
}

// 1 / sqrt(v), correctly rounded square root and division (nvcc's default
// -prec-sqrt / -prec-div), not the approximate rsqrt.
__device__ __forceinline__ float inverse_sqrt(float v) {
  return 1.0f / sqrtf(v);
}
__device__ __forceinline__ double inverse_sqrt(double v) {
  return 1.0 / sqrt(v);
}

}  // namespace normcheck::cuda::device
