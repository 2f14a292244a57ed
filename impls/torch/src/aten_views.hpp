// Caller-owned host buffers seen as ATen tensors without copies, and the
// way results go back into them. Included by the two translation units that
// call ATen (aten_ops.cpp, composite_ops.cpp).
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/ops/add.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/ones.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "normcheck/support/calls.hpp"

namespace normcheck::torch_adapter {

using numeric::DType;
using Dims = std::vector<std::int64_t>;

inline at::ScalarType scalar_type(DType t) {
  switch (t) {
    case DType::f64:
      return at::kDouble;
    case DType::f32:
      return at::kFloat;
    case DType::f16:
      return at::kHalf;
    case DType::bf16:
      return at::kBFloat16;
  }
  return at::kFloat;
}

// A buffer as a tensor of its own dtype with the given sizes and strides
// (element strides; empty: contiguous). ATen never writes through the
// borrowed inputs of the ops used here, so const buffers are handed over.
inline at::Tensor borrow(const void* data, DType dtype, const Dims& sizes,
                         const Dims& strides = {}) {
  auto* p = const_cast<void*>(data);
  const auto options = at::TensorOptions().dtype(scalar_type(dtype));
  return strides.empty() ? at::from_blob(p, sizes, options)
                         : at::from_blob(p, sizes, strides, options);
}

// As borrow, converted to the kernel's dtype `to` (a copy only when the
// dtypes differ; kernel_dtypes.hpp allows exact widenings only).
inline at::Tensor borrow_as(const void* data, DType dtype, const Dims& sizes, DType to) {
  const at::Tensor t = borrow(data, dtype, sizes);
  return dtype == to ? t : t.to(scalar_type(to));
}

// gamma/beta for a kernel, or ones when absent but needed (a wanted dgamma:
// dgamma involves no gamma, and dx without gamma is that of gamma = 1).
inline at::Tensor param_or_ones(const void* data, DType dtype, const Dims& sizes, DType to) {
  if (data != nullptr) return borrow_as(data, dtype, sizes, to);
  return at::ones(sizes, at::TensorOptions().dtype(scalar_type(to)));
}

// Writes value into the caller's buffer, converting dtype and layout; each
// element is rounded once when the buffer's dtype is narrower.
inline void store(void* data, DType dtype, const Dims& sizes, const Dims& strides,
                  const at::Tensor& value) {
  if (value.data_ptr() == data) return;  // ATen updated the buffer in place
  borrow(data, dtype, sizes, strides).copy_(value.reshape(sizes));
}

inline void store(void* data, DType dtype, const Dims& sizes, const at::Tensor& value) {
  store(data, dtype, sizes, {}, value);
}

// Running statistics as the kernel takes them, when the call reads them
// (eval, global stats) or updates them (tracked training); ATen updates
// them in place, and store_running writes them back to the caller's buffers
// (a no-op when they were borrowed, not converted).
struct RunningStats {
  c10::optional<at::Tensor> mean, var;
};

inline RunningStats running_stats(const support::ForwardCall& c, DType kernel_stats) {
  if (!c.running_stats && !c.update_running) return {};
  const Dims channels{c.geo.channels};
  return {borrow_as(c.running_mean, c.geo.stats, channels, kernel_stats),
          borrow_as(c.running_var, c.geo.stats, channels, kernel_stats)};
}

inline void store_running(const support::ForwardCall& c, const RunningStats& r) {
  if (!c.update_running) return;
  const Dims channels{c.geo.channels};
  store(c.running_mean, c.geo.stats, channels, *r.mean);
  store(c.running_var, c.geo.stats, channels, *r.var);
}

// The input a layer/rms norm normalizes: x, or with the fused residual
// residual_out = x + residual, rounded to the data dtype by at::add_out
// (the composition, documented in aten_ops.hpp).
inline at::Tensor row_input(const support::ForwardCall& c) {
  const auto& g = c.geo;
  const at::Tensor x = borrow(c.x, g.data, g.data_shape);
  if (c.residual == nullptr) return x;
  at::Tensor sum = borrow(c.residual_out, g.data, g.data_shape);
  at::add_out(sum, x, borrow(c.residual, g.data, g.data_shape));
  return sum;
}

// An error ATen raised, without its C++ backtrace.
class AtenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs body; a c10::Error becomes AtenError with ATen's message.
template <class Body>
void calling_aten(Body&& body) {
  try {
    body();
  } catch (const c10::Error& e) {
    throw AtenError(std::string("ATen: ") + e.what_without_backtrace());
  }
}

}  // namespace normcheck::torch_adapter
