// The double instantiation of the generic definition is what a careful
// double kernel computes. Error unit: ulps of the row's output scale,
// ulp(max_i |y_i|), because an element whose y is near zero carries the
// absolute error of its row (the u * max|x| error of h - mean), not a
// relative one. Well-conditioned rows (kappa ~ 3): a handful of roundings,
// so <= 4 such ulps. Rows with mean 1e4 and sigma 1 (kappa ~ 1e4): the mean's
// rounding error u * 1e4 is multiplied by rstd ~ 1, about 1e4 ulps of a
// scale-3 output, so the test asserts the error is visibly large (> 64).

#include <catch2/catch.hpp>

#include "normcheck/reference/generic.hpp"
#include "support.hpp"

using namespace nc_test;

namespace {

double max_row_ulps(const NormGeometry& g, const std::vector<double>& approx,
                    const std::vector<double>& exact) {
  const CanonicalDims d = canonical_dims(g);
  double worst = 0;
  for (std::int64_t grp = 0; grp < d.num_groups(); ++grp) {
    double scale = 0;
    for_each_in_group(
        d, grp, [&](std::int64_t i, std::int64_t) { scale = std::max(scale, std::abs(exact[i])); });
    const double ulp = std::nextafter(scale, INFINITY) - scale;
    for_each_in_group(d, grp, [&](std::int64_t i, std::int64_t) {
      worst = std::max(worst, std::abs(approx[i] - exact[i]) / ulp);
    });
  }
  return worst;
}

}  // namespace

TEST_CASE("double agrees with the certified reference on well-conditioned rows", "[double]") {
  std::mt19937_64 rng(31);
  for (const NormGeometry& g : small_geometries()) {
    ProblemSpec s;
    s.geometry = g;
    s.beta = false;  // y = xhat * gamma: no cancellation against beta
    const TestProblem p = make_problem(rng, s);
    const auto q = normcheck::reference::lift_problem<double>(p.g, p.inputs());
    const auto dbl = generic_forward(q);
    const auto dbl_b = generic_backward(q, p.dy);
    const auto ref = forward_backward(p.g, p.inputs(), p.dy);
    INFO(describe(g, Mode::train));
    CHECK(max_row_ulps(g, dbl.y, ref.forward.y.values) <= 4);
    CHECK(max_row_ulps(g, dbl_b.dx, ref.backward.dx.values) <= 16);  // longer chain, two reductions
  }
}

TEST_CASE("double visibly fails on rows with mean 1e4 and sigma 1", "[double]") {
  std::mt19937_64 rng(32);
  for (NormOp op : {NormOp::layer_norm, NormOp::batch_norm}) {
    ProblemSpec s;
    s.geometry = op == NormOp::layer_norm ? geometry(op, {4, 300}) : geometry(op, {60, 4, 5});
    s.shift = 1e4;
    s.dtype = DType::f64;
    s.beta = false;
    const TestProblem p = make_problem(rng, s);
    const auto dbl = generic_forward(normcheck::reference::lift_problem<double>(p.g, p.inputs()));
    const auto ref = forward(p.g, p.inputs());
    const auto kappa = condition_numbers(p.g, p.inputs());
    INFO(to_string(op) << " kappa " << kappa[0]);
    CHECK(kappa[0] > 5e3);
    CHECK(max_row_ulps(p.g, dbl.y, ref.y.values) > 64);
    CHECK(ref.y.cert.all_certified);  // the reference itself is unaffected
  }
}
