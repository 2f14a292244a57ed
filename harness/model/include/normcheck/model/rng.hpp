// A portable random generator for fixture data: the same seed gives the same
// bits with any compiler and standard library. std:: distributions are not
// used because their algorithms differ between standard libraries; every
// step here is integer arithmetic or exactly rounded IEEE + and *.
#pragma once

#include <cstdint>

namespace normcheck::model {

__extension__ typedef unsigned __int128 rng_uint128;

class Rng {
 public:
  // `stream` separates independent tensors of one case (x, dy, gamma, ...),
  // so adding a tensor to a fixture never shifts the bits of another.
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0) {
    std::uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (auto& word : state_) word = splitmix64(s);
  }

  // xoshiro256** (Blackman & Vigna).
  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform on [0, 1): 53 random bits scaled by 2^-53 (exact).
  double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform on [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Approximately standard normal: the Irwin-Hall sum of 12 uniforms minus 6
  // (mean 0, variance 1, tails cut at +-6). A Box-Muller transform would need
  // log and cos, which are not correctly rounded and differ between libms.
  double normal() {
    double sum = 0.0;
    for (int i = 0; i < 12; ++i) sum += uniform();
    return sum - 6.0;
  }

  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; the bias of at
  // most n / 2^64 is irrelevant for test data, and the result is portable).
  std::uint64_t below(std::uint64_t n) {
    return std::uint64_t((static_cast<rng_uint128>(next_u64()) * n) >> 64);
  }

 private:
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::uint64_t state_[4];
};

}  // namespace normcheck::model
