#include "normcheck/support/tensor_check.hpp"

#include <string>

#include "normcheck/support/status.hpp"

namespace normcheck::support {

namespace {

std::string dtype_text(DLDataType d) {
  if (const auto t = numeric::from_dlpack(d)) return std::string(numeric::dtype_name(*t));
  return "(code " + std::to_string(d.code) + ", " + std::to_string(d.bits) + " bits, " +
         std::to_string(d.lanes) + " lanes)";
}

bool shape_matches(const DLTensor& t, std::span<const std::int64_t> expected) {
  std::int64_t expected_count = 1;
  for (auto d : expected) expected_count *= d;
  if (t.ndim == int(expected.size())) {
    bool same = true;
    for (int i = 0; i < t.ndim; ++i) same = same && t.shape[i] == expected[std::size_t(i)];
    if (same) return true;
  }
  // A flattened view of the expected shape (and a 0-d scalar for one value).
  if (t.ndim == 1) return t.shape[0] == expected_count;
  return t.ndim == 0 && expected_count == 1;
}

// Dense row-major: every dim of size > 1 has the stride of the dims after it.
bool dense_row_major(const DLTensor& t) {
  if (t.strides == nullptr) return true;
  std::int64_t expected = 1;
  for (int i = t.ndim - 1; i >= 0; --i) {
    if (t.shape[i] != 1 && t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

const void* check(const DLTensor* t, const TensorRule& rule) {
  const std::string name = rule.name;
  if (t == nullptr) {
    if (rule.required_because.empty()) return nullptr;
    throw ArgumentError(name + " is NULL, but " + std::string(rule.required_because));
  }
  if (t->ndim < 0 || (t->ndim > 0 && t->shape == nullptr))
    throw ArgumentError(name + ": ndim " + std::to_string(t->ndim) + " with shape " +
                        (t->shape == nullptr ? "NULL" : "set") + " is not a valid DLTensor");
  if (t->device.device_type != kDLCPU && t->device.device_type != kDLCUDAHost)
    throw Unsupported(name + ": device type " + std::to_string(t->device.device_type) +
                      " is not host memory; this backend takes host (kDLCPU) tensors only");
  const auto dtype = numeric::from_dlpack(t->dtype);
  if (!dtype || *dtype != rule.dtype)
    throw ArgumentError(name + ": dtype " + dtype_text(t->dtype) + ", but the problem says " +
                        std::string(numeric::dtype_name(rule.dtype)));
  if (!shape_matches(*t, rule.shape))
    throw ArgumentError(name + ": shape " +
                        shape_text(std::span<const std::int64_t>(t->shape, std::size_t(t->ndim))) +
                        ", but the problem needs " + shape_text(rule.shape));
  if (!dense_row_major(*t))
    throw Unsupported(name + ": strides " +
                      shape_text(std::span<const std::int64_t>(t->strides, std::size_t(t->ndim))) +
                      " are not dense row-major; this backend takes dense tensors only");
  if (t->data == nullptr) throw ArgumentError(name + ": data is NULL");
  return static_cast<const unsigned char*>(t->data) + t->byte_offset;
}

}  // namespace

std::string shape_text(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const void* checked_data(const DLTensor* t, const TensorRule& rule) {
  return check(t, rule);
}

void* checked_data(DLTensor* t, const TensorRule& rule) {
  // The tensor was handed over mutable; checking it does not change that.
  return const_cast<void*>(check(t, rule));
}

}  // namespace normcheck::support
