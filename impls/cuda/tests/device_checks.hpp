// Shared pieces of the device tests: the loaded plugin, tolerances, and
// row access into host tensors.
#pragma once

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "normcheck/testing/backend_call.hpp"
#include "plugin.hpp"

namespace normcheck::cuda::testing {

namespace nt = normcheck::testing;
using numeric::DType;

// One plugin for the whole program: dlopen once, as the harness does.
inline const nc_backend_v1& backend() {
  static const Plugin plugin;
  return plugin.table();
}

// Tolerances, as max |got - want| / max(1, |want|) (nt::max_relative_error).
// Outputs are rounded once to their dtype (<= u, counted twice for the
// inputs of the last operation), on top of the accumulation error: f32
// sums of up to 65,536 terms, two-pass, stay below 3e-5 relative to the
// O(1) normalized values (the kernels' trees are at most ~140 additions
// deep, 140 * 2^-24 = 8e-6, with margin for rstd's amplification); f64
// accumulation below 1e-12. Backward sums are longer chains of products:
// 2e-4 and 1e-11.
inline double forward_tolerance(DType t) {
  return 2.0 * numeric::unit_roundoff(t) + (t == DType::f64 ? 1e-12 : 3e-5);
}
inline double backward_tolerance(DType t) {
  return 2.0 * numeric::unit_roundoff(t) + (t == DType::f64 ? 1e-11 : 2e-4);
}

// The bytes of row r of a (rows x hidden) tensor.
inline std::vector<unsigned char> row_bytes(const nt::HostTensor& t, std::int64_t r,
                                            std::int64_t hidden) {
  const std::size_t size = numeric::dtype_size(t.dtype);
  const auto begin = t.bytes.begin() + std::ptrdiff_t(std::size_t(r * hidden) * size);
  return {begin, begin + std::ptrdiff_t(std::size_t(hidden) * size)};
}

// Copies row `from` of src into row `to` of dst (same dtype and hidden).
inline void copy_row(const nt::HostTensor& src, std::int64_t from, nt::HostTensor& dst,
                     std::int64_t to, std::int64_t hidden) {
  const std::size_t bytes = std::size_t(hidden) * numeric::dtype_size(src.dtype);
  std::memcpy(dst.bytes.data() + std::size_t(to) * bytes,
              src.bytes.data() + std::size_t(from) * bytes, bytes);
}

}  // namespace normcheck::cuda::testing
