// Division by a run-time constant through a multiply-high and a shift
// (Granlund & Montgomery 1994, "Division by invariant integers using
// multiplication", figure 4.1): the elementwise kernels map every flat index
// to its (sample, channel) and a 64-bit '/' costs a hundred instructions
// on the GPU, more than the memory traffic it indexes.
#pragma once

#include <cstdint>

#include "normcheck/cuda/host_device.hpp"

namespace normcheck::cuda {

class FastDivmod {
 public:
  FastDivmod() = default;

  // divisor in [1, 2^63]. The multiplier is m = floor(2^64 (2^l - d) / d) + 1
  // with l = ceil(log2 d); it fits 64 bits because 2^l - d < d.
  explicit FastDivmod(std::uint64_t divisor) : divisor_(divisor) {
    while (shift_ < 63 && (std::uint64_t(1) << shift_) < divisor) ++shift_;
    __extension__ typedef unsigned __int128 u128;
    const u128 numerator = (u128(1) << 64) * ((u128(1) << shift_) - divisor);
    multiplier_ = std::uint64_t(numerator / divisor) + 1;
  }

  // n in [0, 2^63): then mulhi(n, m) <= n and the sum below cannot overflow.
  NC_HD std::uint64_t quotient(std::uint64_t n) const {
    return (mulhi(n, multiplier_) + n) >> shift_;
  }
  NC_HD std::uint64_t remainder(std::uint64_t n) const { return n - quotient(n) * divisor_; }
  NC_HD std::uint64_t divisor() const { return divisor_; }

 private:
  NC_HD static std::uint64_t mulhi(std::uint64_t a, std::uint64_t b) {
#if defined(__CUDA_ARCH__)
    return __umul64hi(a, b);
#else
    __extension__ typedef unsigned __int128 u128;
    return std::uint64_t((u128(a) * u128(b)) >> 64);
#endif
  }

  std::uint64_t divisor_ = 1;
  std::uint64_t multiplier_ = 1;
  unsigned shift_ = 0;
};

}  // namespace normcheck::cuda
