// FastDivmod against the '/' and '%' operators. Tolerance: none, integer
// division is exact; the divisors include 1, powers of two and their
// neighbours, and the largest allowed, where a wrong multiplier or shift
// shows first.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

#include "normcheck/cuda/fast_divmod.hpp"

using normcheck::cuda::FastDivmod;

namespace {

void check_divisor(std::uint64_t d, std::mt19937_64& gen) {
  const FastDivmod f(d);
  const std::uint64_t limit = std::uint64_t(1) << 63;  // numerators are in [0, 2^63)
  std::uniform_int_distribution<std::uint64_t> any(0, limit - 1);
  std::uniform_int_distribution<std::uint64_t> small(0, 1u << 20);
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t n = (i % 2 == 0) ? any(gen) : small(gen);
    REQUIRE(f.quotient(n) == n / d);
    REQUIRE(f.remainder(n) == n % d);
  }
  // Around multiples of d, where a quotient one off would show.
  for (std::uint64_t k : {std::uint64_t(0), std::uint64_t(1), std::uint64_t(7), (limit - 1) / d}) {
    const std::uint64_t base = k * d;
    for (std::uint64_t n : {base, base + d - 1, base == 0 ? 0 : base - 1}) {
      if (n >= limit) continue;
      REQUIRE(f.quotient(n) == n / d);
    }
  }
}

}  // namespace

TEST_CASE("FastDivmod divides exactly", "[cuda][fast_divmod]") {
  std::mt19937_64 gen(42);
  SECTION("small divisors") {
    for (std::uint64_t d = 1; d <= 300; ++d) check_divisor(d, gen);
  }
  SECTION("powers of two and their neighbours") {
    for (int e = 1; e <= 62; ++e) {
      const std::uint64_t p = std::uint64_t(1) << e;
      check_divisor(p - 1, gen);
      check_divisor(p, gen);
      check_divisor(p + 1, gen);
    }
    check_divisor(std::uint64_t(1) << 63, gen);
  }
  SECTION("shape-like divisors") {
    for (std::uint64_t d :
         {3136ull, 50176ull, 12544ull, 49ull, 768ull, 4096ull, 65536ull, 1000003ull})
      check_divisor(d, gen);
  }
}
