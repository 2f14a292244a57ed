// Storage element types of the backends' typed loops, the compute type a
// kernel widens each to, and dispatch from a runtime DType to a typed body.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "normcheck/numeric/dtype.hpp"
#include "normcheck/numeric/fast_float16.hpp"

namespace normcheck::support {

using numeric::DType;

// 16-bit formats as distinct types, so overloads and templates can tell them apart.
struct f16_t {
  std::uint16_t bits;
};
struct bf16_t {
  std::uint16_t bits;
};

// The accumulation type of a storage type: f64 stays f64, everything
// narrower computes in f32 (as numeric::accumulation_dtype says).
template <class S>
using compute_t = std::conditional_t<std::is_same_v<S, double>, double, float>;

inline double widen(double v) {
  return v;
}
inline float widen(float v) {
  return v;
}
inline float widen(f16_t v) {
  return numeric::fast::f16_to_f32(v.bits);
}
inline float widen(bf16_t v) {
  return numeric::fast::bf16_to_f32(v.bits);
}

// Rounds a compute-type value once to the storage type.
template <class S>
inline S narrow(compute_t<S> v) {
  if constexpr (std::is_same_v<S, f16_t>) {
    return f16_t{numeric::fast::f32_to_f16(v)};
  } else if constexpr (std::is_same_v<S, bf16_t>) {
    return bf16_t{numeric::fast::f32_to_bf16(v)};
  } else {
    return v;
  }
}

template <class S>
struct type_tag {
  using type = S;
};

// Calls body(type_tag<S>{}) with the storage type of t.
template <class Body>
decltype(auto) visit_dtype(DType t, Body&& body) {
  switch (t) {
    case DType::f64:
      return std::forward<Body>(body)(type_tag<double>{});
    case DType::f32:
      return std::forward<Body>(body)(type_tag<float>{});
    case DType::f16:
      return std::forward<Body>(body)(type_tag<f16_t>{});
    case DType::bf16:
      return std::forward<Body>(body)(type_tag<bf16_t>{});
  }
  return std::forward<Body>(body)(type_tag<float>{});
}

}  // namespace normcheck::support
