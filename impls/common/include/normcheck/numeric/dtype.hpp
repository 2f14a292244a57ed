// The storage dtypes normcheck tests, their names, DLPack codes and unit
// roundoffs, and loading/storing one element of each from/to double.
#pragma once

#include <dlpack/dlpack.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "normcheck/numeric/float16.hpp"

namespace normcheck::numeric {

enum class DType { f64, f32, f16, bf16 };

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f64: return "f64";
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
  }
  return "?";
}

constexpr std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "f64") return DType::f64;
  if (s == "f32") return DType::f32;
  if (s == "f16") return DType::f16;
  if (s == "bf16") return DType::bf16;
  return std::nullopt;
}

constexpr std::size_t dtype_size(DType t) {
  return t == DType::f64 ? 8 : t == DType::f32 ? 4 : 2;
}

// Significand bits including the implicit one.
constexpr int dtype_precision(DType t) {
  switch (t) {
    case DType::f64: return 53;
    case DType::f32: return 24;
    case DType::f16: return 11;
    case DType::bf16: return 8;
  }
  return 0;
}

// u = 2^-p: the largest relative error of one rounding to nearest.
constexpr double unit_roundoff(DType t) {
  double u = 1.0;
  for (int i = 0; i < dtype_precision(t); ++i) u /= 2.0;
  return u;
}

// The accumulation type a typical kernel uses for this storage type.
constexpr DType accumulation_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

constexpr DLDataType to_dlpack(DType t) {
  switch (t) {
    case DType::f64: return DLDataType{kDLFloat, 64, 1};
    case DType::f32: return DLDataType{kDLFloat, 32, 1};
    case DType::f16: return DLDataType{kDLFloat, 16, 1};
    case DType::bf16: return DLDataType{kDLBfloat, 16, 1};
  }
  return DLDataType{kDLFloat, 32, 1};
}

constexpr std::optional<DType> from_dlpack(DLDataType d) {
  if (d.lanes != 1) return std::nullopt;
  if (d.code == kDLFloat && d.bits == 64) return DType::f64;
  if (d.code == kDLFloat && d.bits == 32) return DType::f32;
  if (d.code == kDLFloat && d.bits == 16) return DType::f16;
  if (d.code == kDLBfloat && d.bits == 16) return DType::bf16;
  return std::nullopt;
}

// Rounds v once to t (round to nearest even) and returns the value as double.
inline double round_to(DType t, double v) {
  switch (t) {
    case DType::f64: return v;
    case DType::f32: return double(float(v));
    case DType::f16: return f16_to_f64(f64_to_f16(v));
    case DType::bf16: return bf16_to_f64(f64_to_bf16(v));
  }
  return v;
}

// Element access on raw storage of dtype t.
inline double load(DType t, const void* base, std::size_t index) {
  const auto* bytes = static_cast<const unsigned char*>(base) + index * dtype_size(t);
  switch (t) {
    case DType::f64: { double v; std::memcpy(&v, bytes, 8); return v; }
    case DType::f32: { float v; std::memcpy(&v, bytes, 4); return v; }
    case DType::f16: { std::uint16_t b; std::memcpy(&b, bytes, 2); return f16_to_f64(b); }
    case DType::bf16: { std::uint16_t b; std::memcpy(&b, bytes, 2); return bf16_to_f64(b); }
  }
  return 0.0;
}

inline void store(DType t, void* base, std::size_t index, double v) {
  auto* bytes = static_cast<unsigned char*>(base) + index * dtype_size(t);
  switch (t) {
    case DType::f64: std::memcpy(bytes, &v, 8); return;
    case DType::f32: { const float f = float(v); std::memcpy(bytes, &f, 4); return; }
    case DType::f16: { const std::uint16_t b = f64_to_f16(v); std::memcpy(bytes, &b, 2); return; }
    case DType::bf16: { const std::uint16_t b = f64_to_bf16(v); std::memcpy(bytes, &b, 2); return; }
  }
}

}  // namespace normcheck::numeric
