// A tensor buffer handed to a backend, with guard zones around it.
//
//   [ guard | payload | guard ]     64-byte aligned payload
//
// Guards are filled with a byte pattern and checked after each call: a
// kernel that writes outside its tensor is caught (OVERRUN) instead of
// silently corrupting the harness. Output payloads are filled with a
// signalling-NaN pattern whose payload bits are unlikely to be produced by
// arithmetic (arithmetic quiets a signalling NaN), so an element the kernel
// never wrote is told apart from one it wrote (as a NaN or anything else).
#pragma once

#include <dlpack/dlpack.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "normcheck/fixture/case.hpp"
#include "normcheck/numeric/dtype.hpp"

namespace normcheck::runner {

using numeric::DType;

// True when element i of raw storage of dtype t still holds the poison.
bool is_poison(DType t, const unsigned char* base, std::int64_t i);

// One flag per element: 1 where the poison survived.
std::vector<std::uint8_t> unwritten_mask(const fixture::Tensor& t);

class GuardedBuffer {
 public:
  // An output: payload poisoned.
  static GuardedBuffer output(DType dtype, std::vector<std::int64_t> shape);
  // An input: payload copied from `t` (a kernel must not change it).
  static GuardedBuffer input(const fixture::Tensor& t);
  // An input holding `rows` entries of dim 0 of `t`, from `first_row` on.
  static GuardedBuffer input_rows(const fixture::Tensor& t, std::int64_t first_row,
                                  std::int64_t rows);

  GuardedBuffer(GuardedBuffer&&) noexcept = default;
  GuardedBuffer& operator=(GuardedBuffer&&) noexcept = default;

  DLTensor* tensor() { return &tensor_; }
  const DLTensor* tensor() const { return &tensor_; }
  DType dtype() const { return dtype_; }
  const std::vector<std::int64_t>& shape() const { return shape_; }
  std::int64_t count() const;

  // Bytes changed in the guard zones before and after the payload.
  struct Damage {
    std::int64_t before = 0, after = 0;
    bool any() const { return before != 0 || after != 0; }
  };
  Damage guard_damage() const;

  // A copy of the payload.
  fixture::Tensor contents() const;
  // Overwrites the payload with the contents of `t` (same dtype and size).
  void assign(const fixture::Tensor& t);
  // True when the payload equals `t` bit for bit.
  bool equals(const fixture::Tensor& t) const;

 private:
  GuardedBuffer(DType dtype, std::vector<std::int64_t> shape);
  unsigned char* payload() const { return storage_.get() + kGuardBytes; }
  std::size_t payload_bytes() const;

  static constexpr std::size_t kGuardBytes = 4096;  // a multiple of 64: keeps the payload aligned
  struct Free {
    void operator()(unsigned char* p) const;
  };
  std::unique_ptr<unsigned char[], Free> storage_;
  DType dtype_;
  std::vector<std::int64_t> shape_;
  DLTensor tensor_{};
};

}  // namespace normcheck::runner
