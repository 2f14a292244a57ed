#include "normcheck/runner/guarded_buffer.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace normcheck::runner {

namespace {

constexpr unsigned char kGuardByte = 0xA5;

// Signalling NaNs (quiet bit clear) with a recognisable payload.
constexpr std::uint64_t kPoison64 = 0x7FF00BAD0BAD0BADull;
constexpr std::uint32_t kPoison32 = 0x7F800BADu;
constexpr std::uint16_t kPoisonF16 = 0x7CADu;
constexpr std::uint16_t kPoisonBF16 = 0x7F8Du;

void poison(DType t, unsigned char* base, std::size_t count) {
  const auto fill = [&](const auto pattern) {
    for (std::size_t i = 0; i < count; ++i)
      std::memcpy(base + i * sizeof pattern, &pattern, sizeof pattern);
  };
  switch (t) {
    case DType::f64:
      fill(kPoison64);
      break;
    case DType::f32:
      fill(kPoison32);
      break;
    case DType::f16:
      fill(kPoisonF16);
      break;
    case DType::bf16:
      fill(kPoisonBF16);
      break;
  }
}

std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

}  // namespace

bool is_poison(DType t, const unsigned char* base, std::int64_t i) {
  const auto at = [&](auto pattern) {
    decltype(pattern) v;
    std::memcpy(&v, base + std::size_t(i) * sizeof v, sizeof v);
    return v == pattern;
  };
  switch (t) {
    case DType::f64:
      return at(kPoison64);
    case DType::f32:
      return at(kPoison32);
    case DType::f16:
      return at(kPoisonF16);
    case DType::bf16:
      return at(kPoisonBF16);
  }
  return false;
}

std::vector<std::uint8_t> unwritten_mask(const fixture::Tensor& t) {
  std::vector<std::uint8_t> mask(std::size_t(t.count()), 0);
  for (std::int64_t i = 0; i < t.count(); ++i)
    mask[std::size_t(i)] = is_poison(t.dtype, t.bytes.data(), i) ? 1 : 0;
  return mask;
}

void GuardedBuffer::Free::operator()(unsigned char* p) const {
  std::free(p);
}

GuardedBuffer::GuardedBuffer(DType dtype, std::vector<std::int64_t> shape)
    : dtype_(dtype), shape_(std::move(shape)) {
  const std::size_t total = (2 * kGuardBytes + payload_bytes() + 63) / 64 * 64;
  storage_.reset(static_cast<unsigned char*>(std::aligned_alloc(64, total)));
  if (!storage_) throw std::bad_alloc();
  std::memset(storage_.get(), kGuardByte, total);
  tensor_.data = payload();
  tensor_.device = DLDevice{kDLCPU, 0};
  tensor_.ndim = int32_t(shape_.size());
  tensor_.dtype = numeric::to_dlpack(dtype_);
  tensor_.shape = shape_.data();
  tensor_.strides = nullptr;  // compact row-major
  tensor_.byte_offset = 0;
}

std::int64_t GuardedBuffer::count() const {
  return product(shape_);
}

std::size_t GuardedBuffer::payload_bytes() const {
  return std::size_t(count()) * numeric::dtype_size(dtype_);
}

GuardedBuffer GuardedBuffer::output(DType dtype, std::vector<std::int64_t> shape) {
  GuardedBuffer b(dtype, std::move(shape));
  poison(dtype, b.payload(), std::size_t(b.count()));
  return b;
}

GuardedBuffer GuardedBuffer::input(const fixture::Tensor& t) {
  GuardedBuffer b(t.dtype, t.shape);
  b.assign(t);
  return b;
}

GuardedBuffer GuardedBuffer::input_rows(const fixture::Tensor& t, std::int64_t first_row,
                                        std::int64_t rows) {
  if (t.shape.empty() || first_row < 0 || first_row + rows > t.shape[0])
    throw std::invalid_argument("input_rows: rows out of range");
  std::vector<std::int64_t> shape = t.shape;
  shape[0] = rows;
  GuardedBuffer b(t.dtype, shape);
  const std::size_t row_bytes = t.bytes.size() / std::size_t(t.shape[0]);
  std::memcpy(b.payload(), t.bytes.data() + std::size_t(first_row) * row_bytes,
              std::size_t(rows) * row_bytes);
  return b;
}

GuardedBuffer::Damage GuardedBuffer::guard_damage() const {
  Damage d;
  const unsigned char* base = storage_.get();
  for (std::size_t i = 0; i < kGuardBytes; ++i) d.before += base[i] != kGuardByte;
  const unsigned char* tail = payload() + payload_bytes();
  for (std::size_t i = 0; i < kGuardBytes; ++i) d.after += tail[i] != kGuardByte;
  return d;
}

fixture::Tensor GuardedBuffer::contents() const {
  fixture::Tensor t;
  t.dtype = dtype_;
  t.shape = shape_;
  t.bytes.assign(payload(), payload() + payload_bytes());
  return t;
}

void GuardedBuffer::assign(const fixture::Tensor& t) {
  if (t.dtype != dtype_ || t.bytes.size() != payload_bytes())
    throw std::invalid_argument("GuardedBuffer::assign: dtype or size differs");
  if (!t.bytes.empty()) std::memcpy(payload(), t.bytes.data(), t.bytes.size());
}

bool GuardedBuffer::equals(const fixture::Tensor& t) const {
  return t.bytes.size() == payload_bytes() &&
         (t.bytes.empty() || std::memcmp(payload(), t.bytes.data(), t.bytes.size()) == 0);
}

}  // namespace normcheck::runner
