// Edge cases with exact, IEEE-defined answers (tolerance 0 throughout):
// constant rows, eps = 0 with zero variance, NaN/inf confined to one group,
// row lengths 1 and 65536.

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace nc_test;

TEST_CASE("constant row: x - mean is exactly 0, so y = beta", "[edge]") {
  const auto g = geometry(NormOp::layer_norm, {2, 4});
  const std::vector<double> x{5, 5, 5, 5, 1, 2, 3, 4}, beta{0.5, -1, 2, 0},
      dy{1, 2, 3, 4, 1, 1, 1, 1};
  ForwardInputs in;
  in.x = x;
  in.beta = beta;
  in.eps = 1e-5;
  const auto r = forward_backward(g, in, dy);
  CHECK(r.forward.y.values[0] == 0.5);
  CHECK(r.forward.y.values[1] == -1);
  CHECK(r.forward.y.values[2] == 2);
  CHECK(r.forward.y.values[3] == 0);
  CHECK(r.forward.mean.values[0] == 5);
  CHECK(r.forward.y.cert.method == CertMethod::rigorous);
  // rstd = 1/sqrt(eps) rounded once: the MPFR definition gives the same.
  CHECK(r.forward.rstd.values == forward_two_precision(g, in).rstd.values);
  // dx = rstd * (dy - mean(dy)) on the constant row (xhat = 0).
  CHECK(r.backward.dx.values == backward_two_precision(g, in, dy).dx.values);
}

TEST_CASE("eps = 0 and zero variance: rstd = +inf and 0 * inf = NaN", "[edge]") {
  const auto g = geometry(NormOp::layer_norm, {2, 4});
  const std::vector<double> x{5, 5, 5, 5, 1, 2, 3, 4}, dy(8, 0.5), gamma{1, 2, 3, 4},
      beta{0, 0, 0, 1};
  ForwardInputs in;
  in.x = x;
  in.gamma = gamma;
  in.beta = beta;
  in.eps = 0;
  const auto r = forward_backward(g, in, dy);
  CHECK(r.forward.mean.values[0] == 5);
  CHECK(r.forward.rstd.values[0] == INFINITY);
  for (int i = 0; i < 4; ++i) {
    CHECK(std::isnan(r.forward.y.values[i]));
    CHECK(std::isnan(r.backward.dx.values[i]));
    CHECK(std::isnan(r.backward.dgamma.values[i]));  // every param sees the bad row
  }
  // The other row is untouched: rstd = 2/sqrt(5).
  CHECK(r.forward.rstd.values[1] == 0.8944271909999158785636694674925104941);
  for (int i = 4; i < 8; ++i) CHECK(std::isfinite(r.forward.y.values[i]));
  CHECK(r.backward.dbeta.values == std::vector<double>{1, 1, 1, 1});  // sum(dy) needs no rstd
  CHECK(r.forward.y.cert.method == CertMethod::two_precision);
  CHECK(r.forward.y.cert.all_certified);
}

TEST_CASE("NaN and inf stay inside their group", "[edge]") {
  std::mt19937_64 rng(51);
  for (double bad : {NAN, INFINITY, -INFINITY}) {
    for (const NormGeometry& g :
         {geometry(NormOp::layer_norm, {3, 8}), geometry(NormOp::batch_norm, {3, 4, 2}),
          geometry(NormOp::group_norm, {2, 4, 3}, false, 1, 2),
          geometry(NormOp::instance_norm, {2, 3, 4}, false)}) {
      ProblemSpec s;
      s.geometry = g;
      s.beta = false;
      TestProblem clean = make_problem(rng, s);
      TestProblem dirty = clean;
      dirty.x[5] = bad;
      const std::int64_t hit = g.group_of(5);
      INFO(describe(g, Mode::train) << " bad=" << bad);
      const auto a = forward_backward(g, clean.inputs(), clean.dy);
      const auto b = forward_backward(g, dirty.inputs(), dirty.dy);
      CHECK(b.forward.y.cert.method == CertMethod::two_precision);
      CHECK(b.forward.y.cert.all_certified);
      for (std::int64_t i = 0; i < g.num_elements(); ++i) {
        if (g.group_of(i) == hit) {
          CHECK(std::isnan(b.forward.y.values[i]));
          CHECK(std::isnan(b.backward.dx.values[i]));
        } else {
          CHECK(same_bits(a.forward.y.values[i], b.forward.y.values[i]));
          CHECK(same_bits(a.backward.dx.values[i], b.backward.dx.values[i]));
        }
      }
      for (std::int64_t k = 0; k < g.num_groups(); ++k)
        CHECK(std::isnan(b.forward.rstd.values[k]) == (k == hit));
    }
  }
}

TEST_CASE("NaN in an eval-mode element only touches that element", "[edge]") {
  std::mt19937_64 rng(52);
  ProblemSpec s;
  s.geometry = geometry(NormOp::batch_norm, {2, 3, 4});
  s.mode = Mode::eval;
  TestProblem p = make_problem(rng, s);
  const auto clean = forward(p.g, p.inputs());
  p.x[7] = NAN;
  const auto dirty = forward(p.g, p.inputs());
  for (std::int64_t i = 0; i < p.g.num_elements(); ++i)
    CHECK(std::isnan(dirty.y.values[i]) == (i == 7));
  for (std::int64_t i = 0; i < p.g.num_elements(); ++i)
    if (i != 7) CHECK(dirty.y.values[i] == clean.y.values[i]);
}

TEST_CASE("row length 1: variance 0, y = beta, dx = 0", "[edge]") {
  const auto g = geometry(NormOp::layer_norm, {5, 1});
  const std::vector<double> x{1, -2, 3.5, 1e10, 0}, beta{0.25}, dy{1, 2, 3, 4, 5};
  ForwardInputs in;
  in.x = x;
  in.beta = beta;
  const auto r = forward_backward(g, in, dy);
  for (double y : r.forward.y.values) CHECK(y == 0.25);
  for (double d : r.backward.dx.values) CHECK(d == 0);
  CHECK(r.backward.dx.cert.all_certified);
  CHECK(r.forward.mean.values == x);
}

TEST_CASE("row length 65536 is certified and equals the MPFR definition", "[edge]") {
  std::mt19937_64 rng(53);
  ProblemSpec s;
  s.geometry = geometry(NormOp::layer_norm, {2, 65536});
  s.shift = 10;
  const TestProblem p = make_problem(rng, s);
  const auto fast = forward_backward(p.g, p.inputs(), p.dy);
  CHECK(fast.forward.y.cert.all_certified);
  CHECK(fast.backward.dx.cert.all_certified);
  CHECK(fast.backward.dgamma.cert.all_certified);
  const auto slow_f = forward_two_precision(p.g, p.inputs());
  const auto slow_b = backward_two_precision(p.g, p.inputs(), p.dy);
  CHECK(fast.forward.y.values == slow_f.y.values);
  CHECK(fast.forward.rstd.values == slow_f.rstd.values);
  CHECK(fast.backward.dx.values == slow_b.dx.values);
  CHECK(fast.backward.dgamma.values == slow_b.dgamma.values);
  CHECK(fast.backward.dbeta.values == slow_b.dbeta.values);
}
