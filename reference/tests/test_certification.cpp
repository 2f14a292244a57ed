// The rigorous fast path against the generic MPFR definition certified by
// two-precision agreement: bit-identical doubles wherever the latter is
// certified (tolerance 0: both claim the exact value rounded once), on many
// problems including ill-conditioned ones that force the MPFR fallback.

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace nc_test;

namespace {

void compare(const CertifiedVector& fast, const CertifiedVector& slow, const std::string& what) {
  INFO(what);
  REQUIRE(fast.values.size() == slow.values.size());
  CHECK(fast.cert.all_certified);
  CHECK(fast.cert.method == CertMethod::rigorous);
  // The generic path cannot certify an exact rounding tie; none occur in
  // random data, so it must certify everything here.
  CHECK(slow.cert.all_certified);
  for (std::size_t i = 0; i < fast.values.size(); ++i) {
    INFO("[" << i << "] fast " << fast.values[i] << " generic " << slow.values[i]);
    CHECK(same_bits(fast.values[i], slow.values[i]));
  }
}

void check_problem(const TestProblem& p) {
  const std::string d = describe(p.g, p.mode) + " residual=" + std::to_string(!p.residual.empty());
  REQUIRE(rigorous_path_applies(p.g, p.inputs(), p.dy));
  const auto fast = forward_backward(p.g, p.inputs(), p.dy);
  const auto f2 = forward_two_precision(p.g, p.inputs());
  const auto b2 = backward_two_precision(p.g, p.inputs(), p.dy);
  compare(fast.forward.y, f2.y, d + " y");
  compare(fast.forward.residual_out, f2.residual_out, d + " residual_out");
  compare(fast.forward.mean, f2.mean, d + " mean");
  compare(fast.forward.rstd, f2.rstd, d + " rstd");
  compare(fast.backward.dx, b2.dx, d + " dx");
  compare(fast.backward.dresidual, b2.dresidual, d + " dresidual");
  compare(fast.backward.dgamma, b2.dgamma, d + " dgamma");
  compare(fast.backward.dbeta, b2.dbeta, d + " dbeta");
  // Split entry points agree with the combined one.
  const auto f = forward(p.g, p.inputs());
  const auto b = backward(p.g, p.inputs(), p.dy);
  CHECK(f.y.values == fast.forward.y.values);
  CHECK(b.dx.values == fast.backward.dx.values);
}

}  // namespace

TEST_CASE("fast path equals the MPFR definition bit for bit", "[certification]") {
  std::mt19937_64 rng(41);
  const DType dtypes[] = {DType::f32, DType::bf16, DType::f16, DType::f64};
  int k = 0;
  for (const NormGeometry& g : small_geometries())
    for (Mode m : {Mode::train, Mode::eval, Mode::global_stats})
      for (double shift : {0.0, 1e3}) {
        ProblemSpec s;
        s.geometry = g;
        s.mode = m;
        s.shift = shift;
        s.dtype = dtypes[k % 4];
        s.residual = (g.op == NormOp::layer_norm || g.op == NormOp::rms_norm) && k % 3 != 0;
        s.gamma = k % 5 != 1;
        s.beta = k % 5 != 2;
        ++k;
        check_problem(make_problem(rng, s));
      }
}

TEST_CASE("ill-conditioned problems exercise the MPFR fallback and still agree",
          "[certification]") {
  std::mt19937_64 rng(42);
  // f64 data near 2^52 with sigma ~ 8 (integers): kappa ~ 2^49. Group
  // sizes are not powers of two, so the mean is not dyadic and its double
  // word errs by ~2^-107 * 2^52 absolute, a few percent of an output ulp:
  // some elements' enclosures straddle a boundary and the interval path
  // must settle them.
  for (const NormGeometry& g :
       {geometry(NormOp::layer_norm, {4, 60}), geometry(NormOp::batch_norm, {10, 3, 6}),
        geometry(NormOp::group_norm, {2, 6, 10}, false, 1, 2)}) {
    ProblemSpec s;
    s.geometry = g;
    s.dtype = DType::f64;
    s.shift = 0x1p52;
    s.scale = 8;
    s.eps = 0;
    const TestProblem p = make_problem(rng, s);
    const auto fast = forward_backward(p.g, p.inputs(), p.dy);
    INFO(describe(g, Mode::train) << " escalated y " << fast.forward.y.cert.escalated << " dx "
                                  << fast.backward.dx.cert.escalated);
    CHECK(fast.forward.y.cert.escalated + fast.backward.dx.cert.escalated > 0);
    check_problem(p);
  }
}

TEST_CASE("exact zeros and exact ties are decided exactly", "[certification]") {
  SECTION("dy = 1 with gamma = 1 gives dx == 0 exactly") {
    std::mt19937_64 rng(43);
    ProblemSpec s;
    s.geometry = geometry(NormOp::batch_norm, {4, 3, 5});
    s.gamma = false;
    TestProblem p = make_problem(rng, s);
    std::fill(p.dy.begin(), p.dy.end(), 1.0);
    const BackwardResult b = backward(p.g, p.inputs(), p.dy);
    for (double v : b.dx.values) CHECK(v == 0);
    CHECK(b.dx.cert.all_certified);
    CHECK(b.dx.cert.exact_decisions == 60);
    // The generic path reaches the same zeros only at thousands of bits.
    const BackwardResult g = backward_two_precision(p.g, p.inputs(), p.dy);
    CHECK(g.dx.values == b.dx.values);
    CHECK(g.dx.cert.precision_bits >= 2048);
  }
  SECTION("y exactly on a rounding midpoint rounds to even") {
    // x = [1,2,3,4], eps = 0.3125: rstd = 0.8, xhat_3 = 1.2. With gamma_3 =
    // 0.625, xhat_3 * gamma_3 = 0.75 exactly; beta_3 = 0.25 + 2^-53 puts y_3
    // exactly half-way between 1 and 1 + 2^-52: ties-to-even gives 1.
    const auto g = geometry(NormOp::layer_norm, {1, 4});
    const std::vector<double> x{1, 2, 3, 4}, gamma{1, 1, 1, 0.625};
    std::vector<double> beta{0, 0, 0, 0.25 + 0x1p-53};
    ForwardInputs in;
    in.x = x;
    in.gamma = gamma;
    in.beta = beta;
    in.eps = 0.3125;
    ForwardResult f = forward(g, in);
    CHECK(f.y.values[3] == 1.0);
    CHECK(f.y.cert.exact_decisions == 1);
    CHECK(f.y.cert.all_certified);
    // 1 + 3 * 2^-53 is half-way between 1 + 2^-52 and 1 + 2^-51 (even).
    beta[3] = 0.25 + 3 * 0x1p-53;
    f = forward(g, in);
    CHECK(f.y.values[3] == 1.0 + 0x1p-51);
    CHECK(f.y.cert.all_certified);
  }
}
