// Checks one DLTensor of a call against what the problem says it must be
// (present, host memory, dtype, shape, dense row-major) and returns its
// element pointer. Every failure names the tensor.
#pragma once

#include <dlpack/dlpack.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "normcheck/numeric/dtype.hpp"

namespace normcheck::support {

using numeric::DType;

struct TensorRule {
  const char* name;                     // as the ABI struct names the field
  DType dtype;                          // what the problem says
  std::span<const std::int64_t> shape;  // the expected dims
  std::string_view required_because;    // empty: the tensor is optional
};

// The element pointer (byte_offset applied), or nullptr for an absent
// optional tensor. Accepts the expected dims exactly, or a 1-D tensor with
// the same element count (a flattened view). Throws ArgumentError for a NULL
// required tensor, a NULL data pointer, a wrong dtype or shape; Unsupported
// for device memory or non-dense strides.
const void* checked_data(const DLTensor* t, const TensorRule& rule);
void* checked_data(DLTensor* t, const TensorRule& rule);

// "[2, 3, 4]"
std::string shape_text(std::span<const std::int64_t> shape);

}  // namespace normcheck::support
