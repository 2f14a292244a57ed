#include <catch2/catch.hpp>
#include <cmath>

#include "normcheck/compare/precision.hpp"

using normcheck::compare::DType;
using normcheck::compare::reduction_factor;
using normcheck::compare::smallest_subnormal;
using normcheck::compare::ulp_at;

// Exact: every value below is a power of two.
TEST_CASE("ulp_at is the spacing of the dtype at the value") {
  CHECK(ulp_at(DType::f32, 1.0) == std::ldexp(1.0, -23));
  CHECK(ulp_at(DType::f32, 1.999) == std::ldexp(1.0, -23));
  CHECK(ulp_at(DType::f32, -2.0) == std::ldexp(1.0, -22));
  CHECK(ulp_at(DType::bf16, 1.0) == std::ldexp(1.0, -7));
  CHECK(ulp_at(DType::f16, 65504.0) == 32.0);
  CHECK(ulp_at(DType::f64, 1.0) == std::ldexp(1.0, -52));
  SECTION("zero and subnormals use the subnormal spacing") {
    CHECK(ulp_at(DType::f16, 0.0) == std::ldexp(1.0, -24));
    CHECK(ulp_at(DType::f32, 1e-40) == std::ldexp(1.0, -149));
    CHECK(ulp_at(DType::bf16, 0.0) == std::ldexp(1.0, -133));
  }
}

TEST_CASE("smallest_subnormal of each dtype") {
  CHECK(smallest_subnormal(DType::f64) == std::ldexp(1.0, -1074));
  CHECK(smallest_subnormal(DType::f32) == std::ldexp(1.0, -149));
  CHECK(smallest_subnormal(DType::f16) == std::ldexp(1.0, -24));
  CHECK(smallest_subnormal(DType::bf16) == std::ldexp(1.0, -133));
}

TEST_CASE("reduction_factor grows like sqrt(n) and covers pairwise summation's log2(n)") {
  CHECK(reduction_factor(1) == 4.0);
  CHECK(reduction_factor(100) == 22.0);
  CHECK(reduction_factor(0) == 4.0);  // degenerate lengths are clamped, never NaN
  for (std::int64_t n = 1; n < (std::int64_t(1) << 40); n *= 3) {
    CHECK(reduction_factor(n) >= std::log2(double(n)));
    CHECK(reduction_factor(3 * n) > reduction_factor(n));
  }
}
