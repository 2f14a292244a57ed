// Arrays the kernels walk with vector loads and stores (parameters,
// statistics, per-channel sums, dgamma/dbeta partials, widened rows),
// allocated on a cache-line boundary. malloc aligns to 16 bytes (and its
// large blocks sit 16 bytes into a page), so a 64-byte vector of such an
// array straddled two lines on every access: one vector load or store
// became two, the stores of the L1-resident sums and partials among them.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace normcheck::cpu {

inline constexpr std::size_t kCacheLine = 64;

template <class T>
struct LineAllocator {
  using value_type = T;
  LineAllocator() = default;
  template <class U>
  LineAllocator(const LineAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kCacheLine}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{kCacheLine}); }
  template <class U>
  bool operator==(const LineAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using LineVector = std::vector<T, LineAllocator<T>>;

// An uninitialized array of n trivial values on a cache line.
struct LineFree {
  template <class T>
  void operator()(T* p) const noexcept {
    LineAllocator<T>{}.deallocate(p, 0);
  }
};
template <class T>
using LineBuffer = std::unique_ptr<T[], LineFree>;
template <class T>
LineBuffer<T> line_buffer(std::size_t n) {
  return LineBuffer<T>(LineAllocator<T>{}.allocate(n));
}

}  // namespace normcheck::cpu
