#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "normcheck/model/rng.hpp"

using normcheck::model::Rng;

TEST_CASE("the same seed and stream give the same sequence", "[rng]") {
  Rng a(42, 3), b(42, 3), c(42, 4), d(43, 3);
  bool differs_by_stream = false, differs_by_seed = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next_u64();
    REQUIRE(x == b.next_u64());
    differs_by_stream |= x != c.next_u64();
    differs_by_seed |= x != d.next_u64();
  }
  CHECK(differs_by_stream);
  CHECK(differs_by_seed);
}

TEST_CASE("uniform and normal have the right moments", "[rng]") {
  // n = 200000 draws: the standard error of a mean is 1/sqrt(12 n) ~ 6.5e-4
  // for the uniform and 1/sqrt(n) ~ 2.2e-3 for the normal; tolerances are
  // about five standard errors.
  Rng rng(7);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0, max_abs = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    su += u;
    const double z = rng.normal();
    sn += z;
    sn2 += z * z;
    max_abs = std::max(max_abs, std::fabs(z));
  }
  CHECK(std::fabs(su / n - 0.5) < 3.5e-3);
  CHECK(std::fabs(sn / n) < 1.2e-2);
  CHECK(std::fabs(sn2 / n - 1.0) < 1.6e-2);
  CHECK(max_abs <= 6.0);
  CHECK(max_abs > 3.5);  // tails are there
}

TEST_CASE("below covers its range and nothing else", "[rng]") {
  Rng rng(1);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto v = rng.below(7);
    REQUIRE(v < 7);
    seen.insert(v);
  }
  CHECK(seen.size() == 7);
}
