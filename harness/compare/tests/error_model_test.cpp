// Properties of the error bounds on certified cases from the reference.
#include <catch2/catch.hpp>
#include <cmath>

#include "normcheck/compare/error_model.hpp"
#include "normcheck/compare/metrics.hpp"
#include "normcheck/fixture/generator.hpp"

using normcheck::compare::ErrorModel;
using normcheck::compare::measure;
using normcheck::fixture::Case;
using normcheck::fixture::generate_case;
using normcheck::numeric::round_to;

namespace {

Case make(const std::string& descriptor) {
  return generate_case(normcheck::model::parse_descriptor(descriptor));
}

// The golden values rounded once to the dtype a backend writes: what a
// perfect kernel returns.
std::vector<double> rounded(const Case& c, const ErrorModel& m, const std::string& name) {
  std::vector<double> v = c.golden.at(name).to_doubles();
  for (auto& x : v) x = round_to(m.dtype_of(name), x);
  return v;
}

}  // namespace

TEST_CASE("a correctly rounded result is within the bound of every golden tensor") {
  const std::string descriptor =
      GENERATE(as<std::string>{}, "ln:f32:4x64", "ln:bf16:f32:4x64:res=1", "rms:f16:3x33",
               "ln:f32:4x256:dist=offset", "bn:f32:4x8x3x3", "bn:f16:2x8x3x3:mode=eval",
               "bn:f32:2x3x3x8:layout=nhwc:mode=global", "gn:bf16:2x8x4x4:g=4",
               "in:f32:2x4x5x5:track=1:steps=3:rs=paddle", "bn:f32:4x6x3x3:steps=3:var=biased",
               "ln:f32:4x64:dist=subnormal", "ln:f64:4x64", "cbn:f32:2x3x8x8:oc=4:k=3x3:pad=1",
               "cbn:bf16:1x2x5x5:oc=3:k=1x1:affine=none");
  const Case c = make(descriptor);
  const ErrorModel model(c);
  for (const auto& [name, golden] : c.golden) {
    if (name == "kappa" || name == "conv_bn_y") continue;
    INFO(descriptor << " " << name);
    const auto bound = model.bound(name);
    REQUIRE(bound.size() == std::size_t(golden.count()));
    for (double b : bound) CHECK(b > 0.0);
    // Tolerance: a single rounding errs by less than u * |golden|, which
    // every bound contains, so the ratio must stay below 1.
    CHECK(measure(golden.to_doubles(), rounded(c, model, name), bound, model.dtype_of(name))
              .bound_ratio < 1.0);
  }
}

TEST_CASE("the folded convolution of correctly rounded folded parameters is within its bound") {
  const Case c = make("cbn:f32:2x3x8x8:oc=4:k=3x3:pad=1");
  const ErrorModel model(c);
  const auto r =
      model.folded_conv(rounded(c, model, "folded_weight"), rounded(c, model, "folded_bias"));
  const auto m = measure(c.golden.at("conv_bn_y").to_doubles(), r.y, r.bound, c.problem.data);
  CHECK(m.bound_ratio < 1.0);
  CHECK(m.max_rel_err < 1e-5);  // f32 parameters: a few u of f32, far from any bug
}

TEST_CASE("the bound of y grows in proportion to kappa") {
  const Case centred = make("ln:f32:4x512");
  const Case offset = make("ln:f32:4x512:dist=offset");
  const ErrorModel a(centred), b(offset);
  const auto max_of = [](const std::vector<double>& v) {
    return *std::max_element(v.begin(), v.end());
  };
  const double ratio = max_of(b.bound("y")) / max_of(a.bound("y"));
  const double kappa_ratio = b.max_kappa() / a.max_kappa();
  INFO("bound ratio " << ratio << ", kappa ratio " << kappa_ratio);
  CHECK(kappa_ratio > 1000.0);
  // Within a factor of 3 of kappa's growth (the other terms do not grow).
  CHECK(ratio > kappa_ratio / 3.0);
  CHECK(ratio < kappa_ratio * 3.0);
}

TEST_CASE("group context: the statistics of the worst element's group") {
  const Case c = make("ln:f32:4x64:dist=offset");
  const ErrorModel model(c);
  const auto ctx = model.context("y", 2 * 64 + 5);
  REQUIRE(ctx);
  CHECK(ctx->group == 2);
  // Computed in long double by the harness; the golden is certified: they
  // agree to far better than the 1e-9 relative asked here.
  CHECK(ctx->mean == Approx(c.golden.at("saved_mean").at(2)).epsilon(1e-9));
  CHECK(ctx->rstd == Approx(c.golden.at("saved_rstd").at(2)).epsilon(1e-9));
  CHECK(ctx->kappa == c.golden.at("kappa").at(2));
  CHECK_FALSE(model.context("dgamma", 3));
  CHECK(model.dtype_of("saved_rstd") == normcheck::numeric::DType::f32);
  CHECK_THROWS_AS(model.bound("eval_y"), normcheck::model::InputError);  // not in this case
}
