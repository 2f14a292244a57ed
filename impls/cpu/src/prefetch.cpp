#include <unistd.h>

#include <cstdint>

#include "simd.hpp"

namespace normcheck::cpu {

namespace {

std::int64_t l1_data_bytes() {
  static const std::int64_t bytes = [] {
    const long reported = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    return reported > 0 ? std::int64_t(reported) : std::int64_t(32) << 10;  // the common size
  }();
  return bytes;
}

}  // namespace

PrefetchTo prefetch_level(std::int64_t working_set_bytes) {
  // Half of L1: the other half holds what the hardware and the stack use.
  return working_set_bytes <= l1_data_bytes() / 2 ? PrefetchTo::l1 : PrefetchTo::l2;
}

}  // namespace normcheck::cpu
