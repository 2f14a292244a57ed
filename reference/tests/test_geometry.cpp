// Geometry: element -> (stat group, param) maps, worked by hand for each op
// and layout, and validation naming the offending field. Exact integer
// results: compared for equality.

#include <catch2/catch.hpp>

#include "normcheck/reference/sync_batch_norm.hpp"
#include "support.hpp"

using namespace nc_test;

namespace {
std::string message_of(const NormGeometry& g) {
  try {
    g.validate();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("batch_norm NCHW and NHWC map elements to channels", "[geometry]") {
  const auto nchw = geometry(NormOp::batch_norm, {2, 3, 2, 2});
  CHECK(nchw.num_groups() == 3);
  CHECK(nchw.group_size() == 8);
  CHECK(nchw.num_params() == 3);
  // flat = ((n*C + c)*H + h)*W + w: element (n=1, c=2, h=1, w=0) is 22.
  CHECK(nchw.group_of(22) == 2);
  CHECK(nchw.param_of(22) == 2);
  const auto nhwc = geometry(NormOp::batch_norm, {2, 2, 2, 3}, true);
  // flat = ((n*H + h)*W + w)*C + c: element (n=1, h=1, w=0, c=2) is 20.
  CHECK(nhwc.group_of(20) == 2);
  CHECK(nhwc.param_of(20) == 2);
  CHECK(nhwc.channels() == 3);
  CHECK(nhwc.spatial() == 4);
}

TEST_CASE("instance and group norm groups are per sample", "[geometry]") {
  const auto in = geometry(NormOp::instance_norm, {2, 3, 4});
  CHECK(in.num_groups() == 6);
  CHECK(in.group_size() == 4);
  CHECK(in.group_of(12 + 4 + 1) == 1 * 3 + 1);  // (n=1, c=1, s=1)
  CHECK(in.param_of(12 + 4 + 1) == 1);
  const auto gn = geometry(NormOp::group_norm, {2, 6, 2}, false, 1, 3);
  CHECK(gn.num_groups() == 6);
  CHECK(gn.group_size() == 4);
  // (n=1, c=5, s=0): flat 12 + 10 = 22; group g = 5 / 2 = 2, index 1*3 + 2.
  CHECK(gn.group_of(22) == 5);
  CHECK(gn.param_of(22) == 5);
  const auto gn_cl = geometry(NormOp::group_norm, {1, 2, 4}, true, 1, 2);  // (N, S, C)
  CHECK(gn_cl.group_of(1 * 4 + 3) == 1);                                   // (s=1, c=3)
  CHECK(gn_cl.param_of(1 * 4 + 3) == 3);
}

TEST_CASE("layer and rms norm normalize the trailing dims", "[geometry]") {
  const auto ln = geometry(NormOp::layer_norm, {2, 3, 4}, false, 1);
  CHECK(ln.num_groups() == 2);
  CHECK(ln.group_size() == 12);
  CHECK(ln.num_params() == 12);
  CHECK(ln.group_of(13) == 1);
  CHECK(ln.param_of(13) == 1);
  const auto rms = geometry(NormOp::rms_norm, {2, 3, 4}, false, 2);
  CHECK(rms.num_groups() == 6);
  CHECK(rms.num_params() == 4);
  CHECK(rms.param_of(13) == 1);
  const auto all = geometry(NormOp::layer_norm, {5, 7}, false, 0);
  CHECK(all.num_groups() == 1);
  CHECK(all.num_params() == 35);
}

TEST_CASE("nonsense geometries throw naming the field", "[geometry]") {
  CHECK_THAT(message_of(geometry(NormOp::batch_norm, {4})), Catch::Contains("shape"));
  CHECK_THAT(message_of(geometry(NormOp::batch_norm, {1, 2, 3, 4, 5, 6})),
             Catch::Contains("shape"));
  CHECK_THAT(message_of(geometry(NormOp::layer_norm, {2, 0})), Catch::Contains("shape"));
  CHECK_THAT(message_of(geometry(NormOp::group_norm, {2, 6, 2}, false, 1, 4)),
             Catch::Contains("groups"));
  CHECK_THAT(message_of(geometry(NormOp::group_norm, {2, 6, 2}, false, 1, 0)),
             Catch::Contains("groups"));
  CHECK_THAT(message_of(geometry(NormOp::layer_norm, {2, 3}, false, 2)),
             Catch::Contains("norm_axis"));
  CHECK_THAT(message_of(geometry(NormOp::rms_norm, {2, 3}, true)),
             Catch::Contains("channels_last"));
  CHECK(message_of(geometry(NormOp::layer_norm, {2, 3})).empty());
  CHECK_THROWS_AS(geometry(NormOp::layer_norm, {2, 3}).group_of(6), std::invalid_argument);
}

TEST_CASE("nonsense inputs throw naming the field", "[geometry]") {
  const auto g = geometry(NormOp::batch_norm, {2, 3});
  std::vector<double> x(6, 1.0), bad(5, 1.0), three(3, 1.0);
  ForwardInputs in;
  in.x = bad;
  CHECK_THROWS_WITH(forward(g, in), Catch::Contains("x"));
  in.x = x;
  in.gamma = bad;
  CHECK_THROWS_WITH(forward(g, in), Catch::Contains("gamma"));
  in.gamma = {};
  in.residual = x;
  CHECK_THROWS_WITH(forward(g, in), Catch::Contains("residual"));
  in.residual = {};
  in.eps = -1;
  CHECK_THROWS_WITH(forward(g, in), Catch::Contains("eps"));
  in.eps = 1e-5;
  in.mode = Mode::eval;
  CHECK_THROWS_WITH(forward(g, in), Catch::Contains("running_mean"));
  in.running_mean = three;
  in.running_var = three;
  CHECK_NOTHROW(forward(g, in));
  CHECK_THROWS_WITH(backward(g, in, bad), Catch::Contains("dy"));
}

TEST_CASE("the README usage example compiles and runs", "[geometry]") {
  namespace ref = normcheck::reference;
  const std::int64_t rows = 2;
  const std::vector<double> x(rows * 768, 0.5), gamma(768, 1.0), beta(768, 0.0),
      dy(rows * 768, 1.0);
  ref::NormGeometry g{.op = ref::NormOp::layer_norm, .shape = {rows, 768}, .norm_axis = 1};
  ref::ForwardInputs in{.x = x, .gamma = gamma, .beta = beta, .eps = 1e-5};
  ref::ForwardBackwardResult r = ref::forward_backward(g, in, dy);
  // Constant rows: y = beta = 0, dx = 0 exactly.
  CHECK(r.forward.y.cert.all_certified);
  CHECK(r.forward.y.values[5] == 0);
  CHECK(r.backward.dx.values[7] == 0);
  CHECK(r.forward.mean.values == std::vector<double>{0.5, 0.5});
}
