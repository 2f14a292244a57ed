// White-box tests of the exact building blocks, each against exact rational
// arithmetic (tolerance 0) or against its proven error bound.

#include <catch2/catch.hpp>

#include <random>

#include "ball.hpp"
#include "certify_value.hpp"
#include "exact_sum.hpp"
#include "rounding.hpp"
#include "symbolic.hpp"

using namespace normcheck::reference::detail;

TEST_CASE("ExactSum is exact over the whole double range", "[blocks]") {
  std::mt19937_64 rng(71);
  std::uniform_int_distribution<int> ex(-1074, 1000);
  std::normal_distribution<double> nd;
  for (int trial = 0; trial < 20; ++trial) {
    ExactSum s;
    Rational q(0);
    for (int i = 0; i < 200; ++i) {
      const double v = std::ldexp(nd(rng), trial % 2 ? ex(rng) : ex(rng) / 8);
      s.add(v);
      q += to_rational(v);
      if (i % 3 == 0) {  // cancellation
        s.add(-v);
        q -= to_rational(v);
      }
    }
    CHECK(s.to_rational() == q);
    CHECK(round_exact(s.to_mpfr().get()) == round_exact(q));
  }
  ExactSum one;
  one.add(std::numeric_limits<double>::denorm_min());
  one.add(-1.0);
  CHECK(one.to_rational() == to_rational(std::numeric_limits<double>::denorm_min()) - 1);
  CHECK(ExactSum().is_zero());
}

TEST_CASE("ExactSum products are exact inside the domain", "[blocks]") {
  std::mt19937_64 rng(72);
  std::uniform_real_distribution<double> u(-1, 1);
  std::uniform_int_distribution<int> ex(-290, 290);
  ExactSum s;
  Rational q(0);
  for (int i = 0; i < 1000; ++i) {
    const double a = std::ldexp(u(rng), ex(rng)), b = std::ldexp(u(rng), ex(rng));
    REQUIRE(in_exact_domain(a));
    s.add_product(a, b);
    q += to_rational(a) * to_rational(b);
  }
  CHECK(s.to_rational() == q);
}

TEST_CASE("double-word operations stay within their proven bounds", "[blocks]") {
  // Each compound operation's error is compared, exactly, with the bound the
  // Ball radius uses for it.
  std::mt19937_64 rng(73);
  std::normal_distribution<double> nd;
  auto dw = [&] {
    const double hi = nd(rng) * std::ldexp(1.0, static_cast<int>(nd(rng) * 4));
    return fast_two_sum(hi, hi * 0x1p-60 * nd(rng));
  };
  auto q = [](const DW& v) { return to_rational(v.hi) + to_rational(v.lo); };
  auto check = [](const Rational& exact, const DW& got, double rel) {
    const Rational err = abs(Rational(exact - (to_rational(got.hi) + to_rational(got.lo))));
    CHECK(err <= abs(exact) * to_rational(rel));
  };
  for (int i = 0; i < 2000; ++i) {
    const DW a = dw(), b = dw();
    const double c = nd(rng);
    check(q(a) + q(b), dw_add(a, b), kAddDW);
    check(q(a) + to_rational(c), dw_add(a, c), kAddFP);
    check(q(a) * q(b), dw_mul(a, b), kMulDW);
    check(q(a) * to_rational(c), dw_mul(a, c), kMulFP);
    const DW p = two_prod(a.hi, c);
    CHECK(to_rational(p.hi) + to_rational(p.lo) == to_rational(a.hi) * to_rational(c));
  }
}

TEST_CASE("ball certification never claims a wrong rounding", "[blocks]") {
  // Balls around exact values next to rounding midpoints: whenever certify()
  // answers, the answer is the exact value rounded.
  std::mt19937_64 rng(74);
  std::normal_distribution<double> nd;
  int answered = 0;
  for (int i = 0; i < 4000; ++i) {
    const double c = nd(rng);
    const double half = 0.5 * (std::nextafter(std::abs(c), INFINITY) - std::abs(c));
    const double lo = (i % 2 ? 1 : -1) * half * (1 - std::ldexp(1.0, -(i % 60)));
    const double rad = std::abs(lo) * std::ldexp(1.0, -(i % 50)) * 0.5;
    const Ball b{{c, lo}, rad};
    const Rational centre = to_rational(c) + to_rational(lo);
    if (const auto v = certify(b)) {
      ++answered;
      CHECK(*v == round_exact(Rational(centre - to_rational(rad))));
      CHECK(*v == round_exact(Rational(centre + to_rational(rad))));
    }
  }
  CHECK(answered > 1000);
}

TEST_CASE("rounding of exact values handles ties and subnormals", "[blocks]") {
  CHECK(round_exact(to_rational(1.0) + to_rational(0x1p-53)) == 1.0);                // tie to even
  CHECK(round_exact(to_rational(1.0) + to_rational(3 * 0x1p-53)) == 1.0 + 0x1p-51);  // tie to even
  CHECK(round_exact(Rational(1, 3)) == 1.0 / 3.0);
  const double tiny = std::numeric_limits<double>::denorm_min();        // 2^-1074
  CHECK(round_exact(Rational(to_rational(tiny) / 2)) == 0.0);           // tie to even: 0
  CHECK(round_exact(Rational(to_rational(tiny) * 3 / 2)) == 2 * tiny);  // tie to even
  CHECK(round_exact(Rational(to_rational(tiny) * 5 / 8)) == tiny);      // above the tie
  CHECK(round_exact(Rational(-to_rational(tiny) / 4)) == 0.0);          // zero is +0
  CHECK(!std::signbit(round_exact(Rational(-to_rational(tiny) / 4))));
  CHECK(next_result_up(-std::numeric_limits<double>::denorm_min()) == 0.0);
  CHECK(midpoint(1.0, 1.0 + 0x1p-52) == to_rational(1.0) + to_rational(0x1p-53));
}

TEST_CASE("symbolic equality decides square-root linear combinations", "[blocks]") {
  // 1/sqrt(2) - 1/sqrt(8) - 1/sqrt(8) == 0: atoms 8 and 2 share a class.
  const Symbolic a = Symbolic::inv_sqrt(1, Rational(2)), b = Symbolic::inv_sqrt(2, Rational(8));
  CHECK((a - b - b).equals(Rational(0)));
  CHECK(!(a - b).equals(Rational(0)));
  // 1/sqrt(4/9) = 3/2 is rational.
  CHECK(Symbolic::inv_sqrt(3, Rational(4, 9)).equals(Rational(3, 2)));
  // 1/sqrt(2) + 1/sqrt(3) is irrational: equals no rational.
  const Symbolic c = Symbolic::inv_sqrt(4, Rational(3));
  CHECK(!(a + c).equals(Rational(0)));
  // (1/sqrt(5))^3 * 5 = 1/sqrt(5)
  const Symbolic f = Symbolic::inv_sqrt(5, Rational(5));
  CHECK((f * f * f * Symbolic(Rational(5)) - f).equals(Rational(0)));
  CHECK_THROWS(a * c);
}

TEST_CASE("certify_value settles exact boundaries and gives up honestly", "[blocks]") {
  // The value 1 + 2^-53 given only as a shrinking enclosure around it: no
  // precision separates it from the midpoint, the exact form decides.
  const Rational m = to_rational(1.0) + to_rational(0x1p-53);
  auto enclose = [&](mpfr_prec_t p) {
    Interval i = Interval::enclose(m, p);
    mpfr_nextbelow(i.lo());
    mpfr_nextabove(i.hi());
    return i;
  };
  const CertifiedValue v = certify_value(enclose, [&] { return Symbolic(m); });
  CHECK(v.certified);
  CHECK(v.exact);
  CHECK(v.value == 1.0);
  // A wrong exact form: the boundary is not hit, precision runs out.
  const CertifiedValue w = certify_value(
      enclose, [&] { return Symbolic(Rational(2)); }, 256, 1024);
  CHECK(!w.certified);
}
