#include "normcheck/runner/guarded_buffer.hpp"

#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace normcheck::runner {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Drawn once per process (before the workers are forked, so one run uses
// one pattern in every worker, and the next run another). Immutable once
// drawn.
std::uint64_t guard_seed() {
  static const std::uint64_t seed = [] {
    std::uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) != sizeof s)
      s = std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    return s;
  }();
  return seed;
}

// Byte i of the guard pattern: never 0x00 or 0xFF, the values a stray
// memset or a kernel's fill would write.
unsigned char guard_byte(std::uint64_t seed, std::size_t i) {
  const std::uint64_t r = splitmix64(seed ^ (i / 8));
  return static_cast<unsigned char>(1 + ((r >> (8 * (i % 8))) & 0xFF) % 254);
}

// The pattern, computed once: guards are filled with memcpy and checked
// with memcmp (the per-case cost stays in microseconds).
const std::vector<unsigned char>& guard_pattern() {
  static const std::vector<unsigned char> pattern = [] {
    const std::size_t n = 4 * GuardedBuffer::Storage::kGuardBytes + 2 * std::size_t(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> p(n);
    const std::uint64_t seed = guard_seed();
    for (std::size_t i = 0; i < n; ++i) p[i] = guard_byte(seed, i);
    return p;
  }();
  return pattern;
}

void fill_guard(unsigned char* p, std::size_t n, std::size_t origin) {
  std::memcpy(p, guard_pattern().data() + origin, n);
}

std::int64_t count_damage(const unsigned char* p, std::size_t n, std::size_t origin) {
  const unsigned char* expected = guard_pattern().data() + origin;
  if (std::memcmp(p, expected, n) == 0) return 0;
  std::int64_t d = 0;
  for (std::size_t i = 0; i < n; ++i) d += p[i] != expected[i];
  return d;
}

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

GuardedBuffer::Storage::Storage(std::size_t payload_bytes) : payload_bytes_(payload_bytes) {
  page_ = std::size_t(sysconf(_SC_PAGESIZE));
  // [no access][guard][payload][guard to the page end, >= kGuardBytes][no access]
  const std::size_t head = (kGuardBytes + page_ - 1) / page_ * page_;
  const std::size_t body = (payload_bytes + kGuardBytes + page_ - 1) / page_ * page_;
  map_bytes_ = page_ + head + body + page_;
  void* m = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  map_ = static_cast<unsigned char*>(m);
  mprotect(map_, page_, PROT_NONE);
  mprotect(map_ + map_bytes_ - page_, page_, PROT_NONE);
  payload_ = map_ + page_ + head;
  tail_guard_bytes_ = body - payload_bytes;
  fill_guard(payload_ - kGuardBytes, kGuardBytes, 0);
  fill_guard(payload_ + payload_bytes, tail_guard_bytes_, kGuardBytes);
}

GuardedBuffer::Storage::~Storage() {
  munmap(map_, map_bytes_);
}

GuardedBuffer::Damage GuardedBuffer::Storage::guard_damage() const {
  Damage d;
  d.before = count_damage(payload_ - kGuardBytes, kGuardBytes, 0);
  d.after = count_damage(payload_ + payload_bytes_, tail_guard_bytes_, kGuardBytes);
  return d;
}

std::uint64_t GuardedBuffer::Storage::payload_fingerprint() const {
  // Word at a time: it runs over every buffer after every call.
  std::uint64_t h = 0xcbf29ce484222325ull;
  std::size_t i = 0;
  for (; i + 8 <= payload_bytes_; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, payload_ + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < payload_bytes_; ++i) h = (h ^ payload_[i]) * 0x100000001b3ull;
  return h;
}

GuardedBuffer::GuardedBuffer(DType dtype, std::vector<std::int64_t> shape)
    : dtype_(dtype), shape_(std::move(shape)) {
  storage_ = std::make_shared<Storage>(payload_bytes());
  tensor_.data = payload();
  tensor_.device = DLDevice{kDLCPU, 0};
  tensor_.ndim = int32_t(shape_.size());
  tensor_.dtype = numeric::to_dlpack(dtype_);
  tensor_.shape = shape_.data();
  tensor_.strides = nullptr;  // compact row-major
  tensor_.byte_offset = 0;
}

unsigned char* GuardedBuffer::payload() const {
  return storage_->payload();
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
  return storage_->guard_damage();
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
