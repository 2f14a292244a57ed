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

// The per-call arrays a calling thread keeps between calls, one buffer per
// use, so that two live at once never share one.
enum class KeptUse { dgamma_partials, dbeta_partials, row_mean, row_rstd, count };

// An uninitialized array of n doubles on a cache line, kept by the calling
// thread for `use` from call to call up to 16 MiB (larger ones are freed
// by the next call for that use). Freed after each call, such an array went
// back to the system whenever it sat at the top of the heap (glibc trims
// past 128 KiB free there), and the next call faulted its pages in again,
// on this VM at microseconds a page: the partials of an 8192x4096 backward
// (4 MiB), and the 64 KiB mean and rstd of an 8192-row forward, which cost
// 25-40 us in half the ln f32 8192x768 forwards (0.7-0.9 ms).
inline double* kept_doubles(KeptUse use, std::size_t n) {
  constexpr std::size_t kKeep = std::size_t(16) << 20;
  constexpr auto uses = std::size_t(KeptUse::count);
  thread_local LineBuffer<double> kept[uses];
  thread_local std::size_t kept_size[uses] = {};
  thread_local LineBuffer<double> once[uses];
  const auto u = std::size_t(use);
  if (n * sizeof(double) > kKeep) {
    once[u] = line_buffer<double>(n);
    return once[u].get();
  }
  once[u].reset();
  if (kept_size[u] < n) {
    kept[u].reset();
    kept[u] = line_buffer<double>(n);
    kept_size[u] = n;
  }
  return kept[u].get();
}

}  // namespace normcheck::cpu
