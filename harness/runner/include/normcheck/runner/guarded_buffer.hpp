// A tensor buffer handed to a backend, with guard zones around it.
//
//   [ no access | guard | payload | guard | no access ]   64-byte aligned payload
//
// The guards (at least 4 KiB each side) are filled with a pattern drawn at
// random once per run, with no byte 0x00 or 0xFF: a kernel that writes a
// constant past its tensor cannot match it by luck (a fixed 0xA5 could be
// written back unnoticed). They are checked after each call and again at
// the end of the case, when every call has returned: a thread still writing
// after its call returned is caught then. Beyond them, whole pages are
// mapped without access, so a write further out faults at once instead of
// landing silently in some other buffer. Output payloads are filled with a
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

  // The buffer's memory, kept alive by the holder after the GuardedBuffer
  // is gone: the executor checks every buffer once more at the end of the
  // case (late writes).
  class Storage;
  std::shared_ptr<const Storage> storage() const { return storage_; }

  // A copy of the payload.
  fixture::Tensor contents() const;
  // Overwrites the payload with the contents of `t` (same dtype and size).
  void assign(const fixture::Tensor& t);
  // True when the payload equals `t` bit for bit.
  bool equals(const fixture::Tensor& t) const;

 private:
  GuardedBuffer(DType dtype, std::vector<std::int64_t> shape);
  unsigned char* payload() const;
  std::size_t payload_bytes() const;

  std::shared_ptr<Storage> storage_;
  DType dtype_;
  std::vector<std::int64_t> shape_;
  DLTensor tensor_{};
};

// The mapping behind a GuardedBuffer.
class GuardedBuffer::Storage {
 public:
  explicit Storage(std::size_t payload_bytes);
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  unsigned char* payload() const { return payload_; }
  std::size_t payload_bytes() const { return payload_bytes_; }
  Damage guard_damage() const;
  // A hash of the payload: a cheap fingerprint to notice late changes.
  std::uint64_t payload_fingerprint() const;

  static constexpr std::size_t kGuardBytes = 4096;  // a multiple of 64: keeps the payload aligned

 private:
  unsigned char* map_ = nullptr;
  std::size_t map_bytes_ = 0, page_ = 0;
  unsigned char* payload_ = nullptr;
  std::size_t payload_bytes_ = 0, tail_guard_bytes_ = 0;
};

}  // namespace normcheck::runner
