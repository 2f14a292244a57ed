#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "normcheck/compare/metrics.hpp"

using normcheck::compare::combine;
using normcheck::compare::measure;
using normcheck::numeric::DType;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("an exact result has zero error and its first element as the worst") {
  const std::vector<double> g{1.0, -2.0, 0.5}, b{1e-7, 1e-7, 1e-7};
  const auto m = measure(g, g, b, DType::f32);
  CHECK(m.compared == 3);
  CHECK(m.max_abs_err == 0.0);
  CHECK(m.bound_ratio == 0.0);
  REQUIRE(m.worst);
  CHECK(m.worst->flat == 0);
}

TEST_CASE("errors are measured in absolute, relative, ULP and bound units") {
  const double ulp = std::ldexp(1.0, -22);  // f32 spacing in [2, 4)
  const std::vector<double> g{1.0, 3.0, 0.0}, a{1.0, 3.0 + 3 * ulp, std::ldexp(1.0, -149)},
      b{1.0, 6 * ulp, std::ldexp(1.0, -147)};
  const auto m = measure(g, a, b, DType::f32);
  CHECK(m.max_abs_err == 3 * ulp);
  CHECK(m.max_ulp_err == 3.0);
  CHECK(m.max_rel_err == 3 * ulp / 3.0);  // the zero golden is left out of the relative error
  CHECK(m.bound_ratio == 0.5);            // 3 ulp / 6 ulp beats 2^-149 / 2^-147 = 0.25
  REQUIRE(m.worst);
  CHECK(m.worst->flat == 1);
  CHECK(m.worst->golden == 3.0);
  CHECK(m.worst->bound == 6 * ulp);
}

TEST_CASE("non-finite values are judged by class") {
  const std::vector<double> b(4, 1.0);
  SECTION("matching NaN and inf are not errors") {
    const std::vector<double> g{kNaN, kInf, -kInf, 1.0};
    const auto m = measure(g, g, b, DType::f32);
    CHECK(m.compared == 1);
    CHECK(m.nonfinite_mismatches == 0);
    CHECK(m.bound_ratio == 0.0);
  }
  SECTION("a finite golden with a NaN actual is an infinite error") {
    const std::vector<double> g{1.0, 2.0, 3.0, 4.0}, a{1.0, kNaN, 3.0, 4.0};
    const auto m = measure(g, a, b, DType::f32);
    CHECK(std::isinf(m.bound_ratio));
    CHECK(m.nonfinite_mismatches == 1);
    CHECK(m.first_nonfinite_mismatch == 1);
  }
  // A kernel whose statistics skip NaN/inf writes finite values where the
  // golden is NaN: that must fail the value check, not only the advisory
  // nan_placement property (issue 13, point 7).
  SECTION("a non-finite golden with any other class of actual is an infinite error") {
    const std::vector<double> g{kNaN, kNaN, -kInf, 4.0}, a{0.0, kInf, kInf, 4.0};
    const auto m = measure(g, a, b, DType::f32);
    CHECK(m.nonfinite_mismatches == 3);
    CHECK(m.compared == 4);
    CHECK(std::isinf(m.bound_ratio));
    CHECK(std::isinf(m.max_abs_err));
    REQUIRE(m.worst);
    CHECK(m.worst->flat == 0);  // the first of the infinite errors
    CHECK(std::isnan(m.worst->golden));
    CHECK(m.worst->actual == 0.0);
  }
  SECTION("a finite statistic where the golden is NaN fails alone") {
    const std::vector<double> g{kNaN, 1.0, 2.0, 3.0}, a{0.25, 1.0, 2.0, 3.0};
    CHECK(std::isinf(measure(g, a, b, DType::f32).bound_ratio));
  }
}

TEST_CASE("unwritten elements are counted and left out") {
  const std::vector<double> g{1.0, 2.0, 3.0}, a{1.0, kNaN, 3.0}, b(3, 1.0);
  const std::vector<std::uint8_t> unwritten{0, 1, 0};
  const auto m = measure(g, a, b, DType::f32, unwritten);
  CHECK(m.unwritten == 1);
  CHECK(m.first_unwritten == 1);
  CHECK(m.compared == 2);
  CHECK(m.nonfinite_mismatches == 0);
}

TEST_CASE("without a finite bound only an exact result passes") {
  const std::vector<double> g{1.0, 2.0}, b{kNaN, kInf};
  CHECK(measure(g, g, b, DType::f32).bound_ratio == 0.0);
  const std::vector<double> a{1.0, 2.5};
  CHECK(std::isinf(measure(g, a, b, DType::f32).bound_ratio));
}

TEST_CASE("combine keeps the worse tensor's worst element and sums the counts") {
  const std::vector<double> g{1.0, 2.0}, b(2, 1.0);
  const auto small = measure(g, std::vector<double>{1.0, 2.25}, b, DType::f32);
  const auto big = measure(g, std::vector<double>{1.5, 2.0}, b, DType::f32);
  bool second_worse = false;
  const auto m = combine(small, big, &second_worse);
  CHECK(second_worse);
  CHECK(m.bound_ratio == 0.5);
  CHECK(m.worst->flat == 0);
  CHECK(m.elements == 4);
  CHECK(m.max_abs_err == 0.5);
}
