// Validation shared by the built-in backends: every malformed call becomes
// an ArgumentError or Unsupported whose message names the culprit, and
// messages are truncated safely into any buffer.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "normcheck/support/calls.hpp"
#include "normcheck/support/status.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::support;
using namespace normcheck::testing;
using Catch::Matchers::Contains;

TEST_CASE("write_message truncates and always terminates", "[support]") {
  char buffer[8];
  std::memset(buffer, 'z', sizeof buffer);
  write_message(buffer, sizeof buffer, "abcdef", "ghij");
  CHECK(std::string(buffer) == "abcdefg");
  write_message(nullptr, 10, "ignored");  // no buffer: nothing happens
  write_message(buffer, 0, "ignored");
  CHECK(std::string(buffer) == "abcdefg");
  write_message(buffer, 1, "x");
  CHECK(std::string(buffer).empty());
}

TEST_CASE("guarded maps exceptions to statuses", "[support]") {
  char m[64];
  CHECK(guarded(m, sizeof m, [] {}) == NC_OK);
  CHECK(guarded(m, sizeof m, [] { throw ArgumentError("gamma: bad"); }) == NC_INVALID_ARGUMENT);
  CHECK(std::string(m) == "gamma: bad");
  CHECK(guarded(m, sizeof m, [] { throw Unsupported("strides"); }) == NC_UNSUPPORTED);
  CHECK(guarded(m, sizeof m, [] { throw std::bad_alloc(); }) == NC_INTERNAL_ERROR);
  CHECK(guarded(m, sizeof m, [] { throw 42; }) == NC_INTERNAL_ERROR);
}

TEST_CASE("geometry of each op", "[support]") {
  SECTION("group norm NHWC") {
    auto p = make_problem(NC_OP_GROUP_NORM, {2, 3, 5, 6});
    p.layout = NC_LAYOUT_NHWC;
    p.groups = 3;
    const auto g = geometry_of(&p);
    CHECK(g.batch == 2);
    CHECK(g.channels == 6);
    CHECK(g.spatial == 15);
    CHECK(g.group_count == 6);
    CHECK(g.group_size == 30);
    CHECK(g.saved_shape == std::vector<std::int64_t>{2, 3});
  }
  SECTION("layer norm over the last two dims") {
    auto p = make_problem(NC_OP_LAYER_NORM, {2, 3, 4, 5});
    p.norm_axis = 2;
    const auto g = geometry_of(&p);
    CHECK(g.rows == 6);
    CHECK(g.cols == 20);
    CHECK(g.param_shape == std::vector<std::int64_t>{4, 5});
    CHECK(g.saved_shape == std::vector<std::int64_t>{2, 3});
  }
  SECTION("instance norm of rank 2 has spatial size 1") {
    const auto p = make_problem(NC_OP_INSTANCE_NORM, {4, 3});
    CHECK(geometry_of(&p).group_size == 1);
  }
}

TEST_CASE("impossible problems name their field", "[support]") {
  auto p = make_problem(NC_OP_GROUP_NORM, {2, 6, 4});
  SECTION("groups") {
    p.groups = 4;
    CHECK_THROWS_WITH(geometry_of(&p), Contains("groups 4"));
  }
  SECTION("shape") {
    p.shape[2] = 0;
    CHECK_THROWS_WITH(geometry_of(&p), Contains("shape[2]"));
  }
  SECTION("eps") {
    p.eps = -1;
    CHECK_THROWS_WITH(geometry_of(&p), Contains("eps"));
  }
  SECTION("dtype") {
    p.data_dtype = DLDataType{kDLInt, 32, 1};
    CHECK_THROWS_AS(geometry_of(&p), Unsupported);
  }
  SECTION("struct size") {
    p.struct_size = 8;
    CHECK_THROWS_WITH(geometry_of(&p), Contains("struct_size"));
  }
  SECTION("global stats without running statistics") {
    p.mode = NC_MODE_GLOBAL_STATS;
    CHECK_THROWS_WITH(geometry_of(&p), Contains("global-stats"));
  }
}

TEST_CASE("tensor checks name the tensor", "[support]") {
  const auto p = make_problem(NC_OP_LAYER_NORM, {2, 3}, DType::f32);
  HostTensor x(DType::f32, {2, 3}), y(DType::f32, {2, 3}), gamma(DType::f32, {3}),
      beta(DType::f32, {3});
  nc_forward_args a{};
  a.x = x.view();
  a.y = y.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  CHECK_NOTHROW(resolve_forward(&p, &a));

  SECTION("NULL required tensor") {
    a.gamma = nullptr;
    CHECK_THROWS_WITH(resolve_forward(&p, &a),
                      Contains("gamma is NULL") && Contains("NC_FLAG_SCALE"));
  }
  SECTION("wrong dtype") {
    HostTensor wrong(DType::bf16, {2, 3});
    a.x = wrong.view();
    CHECK_THROWS_WITH(resolve_forward(&p, &a), Contains("x: dtype bf16") && Contains("f32"));
  }
  SECTION("wrong shape") {
    HostTensor wrong(DType::f32, {3, 2});
    a.y = wrong.view();
    CHECK_THROWS_WITH(resolve_forward(&p, &a), Contains("y: shape [3, 2]") && Contains("[2, 3]"));
  }
  SECTION("a flattened view is accepted") {
    HostTensor flat(DType::f32, {6});
    a.y = flat.view();
    CHECK_NOTHROW(resolve_forward(&p, &a));
  }
  SECTION("non-dense strides are unsupported") {
    std::int64_t strides[2] = {1, 2};
    x.view()->strides = strides;
    a.x = &x.dl;
    CHECK_THROWS_AS(resolve_forward(&p, &a), Unsupported);
  }
  SECTION("device memory is unsupported") {
    x.view()->device = DLDevice{kDLCUDA, 0};
    a.x = &x.dl;
    CHECK_THROWS_WITH(resolve_forward(&p, &a), Contains("x: device"));
  }
  SECTION("NULL data") {
    x.view()->data = nullptr;
    a.x = &x.dl;
    CHECK_THROWS_WITH(resolve_forward(&p, &a), Contains("x: data is NULL"));
  }
}

TEST_CASE("backward needs the statistics its mode uses", "[support]") {
  auto p = make_problem(NC_OP_BATCH_NORM, {2, 3, 4});
  HostTensor t(DType::f64, {2, 3, 4}), dy(DType::f64, {2, 3, 4}), dx(DType::f64, {2, 3, 4}),
      gamma(DType::f64, {3});
  nc_backward_args a{};
  a.x = t.view();
  a.dy = dy.view();
  a.dx = dx.view();
  a.gamma = gamma.view();
  CHECK_THROWS_WITH(resolve_backward(&p, &a), Contains("saved_mean is NULL"));
  p.mode = NC_MODE_EVAL;
  CHECK_THROWS_WITH(resolve_backward(&p, &a), Contains("running_mean is NULL"));
}
