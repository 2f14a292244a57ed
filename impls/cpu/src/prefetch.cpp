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

bool fits_half_of_l1(std::int64_t bytes) {
  // Half: the other half holds what the hardware, the stack and the
  // parameters a pass streams through use.
  return bytes <= l1_data_bytes() / 2;
}

bool fits_l1(std::int64_t bytes) {
  return bytes <= l1_data_bytes();
}

PrefetchTo prefetch_level(std::int64_t working_set_bytes) {
  return fits_half_of_l1(working_set_bytes) ? PrefetchTo::l1 : PrefetchTo::l2;
}

}  // namespace normcheck::cpu
