// The capability query: what the oneDNN plugin runs, and that it names the
// reason when it declines.
#include <catch2/catch.hpp>

#include "cpu_bf16.hpp"

#include "normcheck/testing/linked_plugin.hpp"

using namespace normcheck::testing::linked_plugin;
using Catch::Matchers::Contains;
using normcheck::numeric::DType;
using normcheck::testing::make_problem;

TEST_CASE("the table identifies the plugin", "[onednn][supports]") {
  const nc_backend_v1* t = normcheck_backend_v1();
  REQUIRE(t != nullptr);
  CHECK(t->abi_version == NORMCHECK_BACKEND_ABI_VERSION);
  CHECK(std::string(t->name) == "onednn");
  CHECK_THAT(std::string(t->version), Contains("oneDNN 2."));
}

TEST_CASE("batch and layer norm in f32 and bf16 are supported", "[onednn][supports]") {
  const auto dtype = GENERATE(DType::f32, DType::bf16);
  const auto layout = GENERATE(NC_LAYOUT_NCHW, NC_LAYOUT_NHWC);
  const auto mode = GENERATE(NC_MODE_TRAIN, NC_MODE_EVAL, NC_MODE_GLOBAL_STATS);
  auto bn = make_problem(NC_OP_BATCH_NORM, {2, 3, 4, 5}, dtype);
  bn.layout = layout;
  bn.mode = mode;
  bn.flags |= NC_FLAG_TRACK_RUNNING_STATS;
  auto ln = make_problem(NC_OP_LAYER_NORM, {2, 3, 8}, dtype);
  ln.norm_axis = 1;
  ln.flags |= NC_FLAG_RESIDUAL;
  const auto r = supports(bn);
  if (dtype == DType::bf16 && !cpu_runs_onednn_bf16()) {
    // Declined, with the reason, rather than run into a missing kernel.
    CHECK(r.status == NC_UNSUPPORTED);
    CHECK_THAT(r.message, Contains("bf16"));
    CHECK(supports(ln).status == NC_UNSUPPORTED);
    return;
  }
  CHECK(r.status == NC_OK);
  CHECK(r.message.empty());
  CHECK(supports(ln).status == NC_OK);
}

TEST_CASE("what oneDNN 2.6 lacks is declined with the reason", "[onednn][supports]") {
  struct Case {
    nc_op op;
    DType data;
    const char* reason;
  };
  const auto c = GENERATE(
      Case{NC_OP_RMS_NORM, DType::f32, "RMS"},
      Case{NC_OP_GROUP_NORM, DType::f32, "group_normalization"},
      Case{NC_OP_INSTANCE_NORM, DType::f32, "instance"},
      Case{NC_OP_CONV_BN_FOLD, DType::f32, "Conv-BN"}, Case{NC_OP_BATCH_NORM, DType::f64, "no f64"},
      Case{NC_OP_LAYER_NORM, DType::f64, "no f64"}, Case{NC_OP_BATCH_NORM, DType::f16, "f16"},
      Case{NC_OP_LAYER_NORM, DType::f16, "f16"});
  auto p = make_problem(c.op, {2, 4, 3, 3}, c.data);
  const auto r = supports(p);
  CHECK(r.status == NC_UNSUPPORTED);
  CHECK_THAT(r.message, Contains(c.reason));
}

TEST_CASE("dtypes and ranks oneDNN has no descriptor for are declined", "[onednn][supports]") {
  auto p = make_problem(NC_OP_BATCH_NORM, {2, 4}, DType::f32);
  SECTION("an integer dtype") {
    p.data_dtype = DLDataType{kDLInt, 8, 1};
    CHECK(supports(p).status == NC_UNSUPPORTED);
  }
  SECTION("batch norm of rank 6") {
    p.ndim = 6;
    for (int d = 2; d < 6; ++d) p.shape[d] = 2;
    const auto r = supports(p);
    CHECK(r.status == NC_UNSUPPORTED);
    CHECK_THAT(r.message, Contains("rank 6"));
  }
}

TEST_CASE("f64 parameters or statistics would be rounded, so they are declined",
          "[onednn][supports]") {
  auto p = make_problem(NC_OP_BATCH_NORM, {2, 4, 3}, DType::f32);
  SECTION("parameters") {
    p.param_dtype = normcheck::numeric::to_dlpack(DType::f64);
  }
  SECTION("statistics") {
    p.stats_dtype = normcheck::numeric::to_dlpack(DType::f64);
  }
  const auto r = supports(p);
  CHECK(r.status == NC_UNSUPPORTED);
  CHECK_THAT(r.message, Contains("f64"));
}

TEST_CASE("a malformed problem is an invalid argument, not a crash", "[onednn][supports][errors]") {
  auto p = make_problem(NC_OP_BATCH_NORM, {2, 4}, DType::f32);
  SECTION("struct_size from an older harness") {
    p.struct_size = 8;
    CHECK(supports(p).status == NC_INVALID_ARGUMENT);
  }
  SECTION("an impossible problem") {
    p.shape[1] = 0;
    const auto r = supports(p);
    CHECK(r.status == NC_INVALID_ARGUMENT);
    CHECK_THAT(r.message, Contains("shape[1]"));
  }
  SECTION("a NULL problem") {
    char message[64];
    CHECK(normcheck_backend_v1()->supports(nullptr, message, sizeof message) ==
          NC_INVALID_ARGUMENT);
  }
  SECTION("a zero-size message buffer is left alone") {
    p.op = NC_OP_RMS_NORM;
    p.flags = 0;
    CHECK(normcheck_backend_v1()->supports(&p, nullptr, 0) == NC_UNSUPPORTED);
  }
}
