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

// A thread's freed blocks of 4 KiB to 16 MiB, kept for its next
// allocations of the same power-of-two size. The per-call arrays of a
// channel norm (per-plane statistics, constants and sums: 64 KiB each for
// 8192 planes) went back to the system when freed at the top of the heap
// (glibc trims past 128 KiB free there), and every call took a brk, the
// other vCPU's TLB flush and the page faults again: batch_norm f32 NCHW
// 32x256x28x28 forward on two threads took 1.56x the time (issue 17,
// session 26). Not under AddressSanitizer, which must see every free.
void* take_line_block(std::size_t bytes);
// Keeps a block take_line_block gave for `bytes`, or frees it (size out of
// range or unknown, or the thread keeps enough).
void give_line_block(void* block, std::size_t bytes) noexcept;
// The size a request of `bytes` is allocated with (its class), 0 for one
// that is never kept.
std::size_t line_block_class(std::size_t bytes) noexcept;

template <class T>
struct LineAllocator {
  using value_type = T;
  LineAllocator() = default;
  template <class U>
  LineAllocator(const LineAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(take_line_block(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { give_line_block(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const LineAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using LineVector = std::vector<T, LineAllocator<T>>;

// An uninitialized array of n trivial values on a cache line; its block
// goes back to the thread's kept ones when freed, as a LineVector's does.
// The per-call arrays that need no zeroing (the row norms' per-row
// statistics, the row backward's dgamma/dbeta partials: 4 MiB for an
// 8192x4096 backward, whose pages faulted in again on every call cost
// 25-40 us in half the ln f32 8192x768 forwards) are such buffers.
struct LineFree {
  std::size_t bytes = 0;
  template <class T>
  void operator()(T* p) const noexcept {
    give_line_block(p, bytes);
  }
};
template <class T>
using LineBuffer = std::unique_ptr<T[], LineFree>;
template <class T>
LineBuffer<T> line_buffer(std::size_t n) {
  return LineBuffer<T>(LineAllocator<T>{}.allocate(n), LineFree{n * sizeof(T)});
}

}  // namespace normcheck::cpu
