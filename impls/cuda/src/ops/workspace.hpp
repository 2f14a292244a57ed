// Carves typed arrays out of one workspace allocation. Run over a null base
// it only adds up the bytes, so a size query and the real carving share one
// description of the layout and cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>

namespace normcheck::cuda {

class WorkspaceCarver {
 public:
  explicit WorkspaceCarver(void* base) : base_(static_cast<unsigned char*>(base)) {}

  // 256-byte aligned, as cudaMalloc's own allocations, so vector access into
  // any carved array is aligned.
  template <class X>
  X* take(std::int64_t count) {
    offset_ = (offset_ + 255) / 256 * 256;
    X* p = base_ == nullptr ? nullptr : reinterpret_cast<X*>(base_ + offset_);
    offset_ += std::size_t(count) * sizeof(X);
    return p;
  }

  std::size_t bytes() const { return offset_; }

 private:
  unsigned char* base_;
  std::size_t offset_ = 0;
};

inline bool aligned_to(const void* p, std::size_t alignment) {
  return p == nullptr || reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

}  // namespace normcheck::cuda
