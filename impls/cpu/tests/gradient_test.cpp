// Backward of both built-in backends against central finite differences of
// their own f64 forward, for every op, layout and mode: the loss is
// L = sum(dy * y), so dL/dx, dL/dgamma, dL/dbeta are dx, dgamma, dbeta.
//
// Tolerance 1e-6 relative to max(1, |gradient|): with h = 1e-5 the central
// difference has truncation error ~h^2 |L'''| ~ 1e-9 and roundoff
// ~u |L| / h ~ 1e-10 on these O(1) problems; a wrong formula errs by O(1).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "normcheck/cpu/backend.hpp"
#include "normcheck/naive/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::testing;

namespace {

double loss(const nc_backend_v1& backend, const nc_problem& p, const Inputs& in) {
  const auto r = run_forward(backend, p, in);
  REQUIRE(r.status == NC_OK);
  double sum = 0.0;
  for (std::int64_t i = 0; i < r.y.count(); ++i) sum += in.dy.at(i) * r.y.at(i);
  return sum;
}

// Central differences of loss() with respect to every element of `member`.
std::vector<double> numeric_gradient(const nc_backend_v1& backend, const nc_problem& p,
                                     const Inputs& in, HostTensor Inputs::*member) {
  constexpr double h = 1e-5;
  std::vector<double> grad;
  Inputs probe = in;
  for (std::int64_t i = 0; i < (in.*member).count(); ++i) {
    const double v = (in.*member).at(i);
    (probe.*member).set(i, v + h);
    const double up = loss(backend, p, probe);
    (probe.*member).set(i, v - h);
    const double down = loss(backend, p, probe);
    (probe.*member).set(i, v);
    grad.push_back((up - down) / (2 * h));
  }
  return grad;
}

struct Case {
  const char* name;
  nc_op op;
  std::vector<std::int64_t> shape;
  nc_layout layout = NC_LAYOUT_NCHW;
  nc_mode mode = NC_MODE_TRAIN;
  std::int64_t groups = 1;
  int axis = -1;
  bool track = false;
};

}  // namespace

TEST_CASE("backward matches finite differences of the forward", "[gradient]") {
  const auto& backend = *GENERATE(&naive::backend_table(), &cpu::backend_table());
  const Case c = GENERATE(values<Case>({
      {"bn nchw", NC_OP_BATCH_NORM, {3, 2, 5}},
      {"bn nhwc 2-d spatial", NC_OP_BATCH_NORM, {2, 2, 3, 3}, NC_LAYOUT_NHWC},
      {"bn eval", NC_OP_BATCH_NORM, {3, 2, 5}, NC_LAYOUT_NCHW, NC_MODE_EVAL},
      {"in nchw", NC_OP_INSTANCE_NORM, {2, 3, 4}},
      {"in nhwc tracked eval",
       NC_OP_INSTANCE_NORM,
       {2, 4, 3},
       NC_LAYOUT_NHWC,
       NC_MODE_EVAL,
       1,
       -1,
       true},
      {"gn nchw", NC_OP_GROUP_NORM, {2, 4, 3}, NC_LAYOUT_NCHW, NC_MODE_TRAIN, 2},
      {"gn nhwc", NC_OP_GROUP_NORM, {2, 3, 6}, NC_LAYOUT_NHWC, NC_MODE_TRAIN, 3},
      {"ln", NC_OP_LAYER_NORM, {3, 7}},
      {"ln over two dims", NC_OP_LAYER_NORM, {2, 3, 4}, NC_LAYOUT_NCHW, NC_MODE_TRAIN, 1, 1},
      {"rms", NC_OP_RMS_NORM, {3, 7}},
  }));
  INFO(backend.name << ": " << c.name);
  auto p = make_problem(c.op, c.shape);
  p.layout = c.layout;
  p.mode = c.mode;
  p.groups = c.groups;
  if (c.axis >= 0) p.norm_axis = c.axis;
  if (c.track) p.flags |= NC_FLAG_TRACK_RUNNING_STATS;
  const auto in = random_inputs(p, 42);
  auto f = run_forward(backend, p, in);
  REQUIRE(f.status == NC_OK);
  const auto b = run_backward(backend, p, in, f);
  REQUIRE(b.status == NC_OK);

  constexpr double tolerance = 1e-6;
  CHECK(max_relative_error(b.dx.values(), numeric_gradient(backend, p, in, &Inputs::x)) <
        tolerance);
  CHECK(max_relative_error(b.dgamma.values(), numeric_gradient(backend, p, in, &Inputs::gamma)) <
        tolerance);
  CHECK(max_relative_error(b.dbeta.values(), numeric_gradient(backend, p, in, &Inputs::beta)) <
        tolerance);
}
