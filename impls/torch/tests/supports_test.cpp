// The capability query: what the libtorch plugin runs, and that it names
// the reason when it declines.
#include <catch2/catch.hpp>

#include "normcheck/testing/linked_plugin.hpp"

using namespace normcheck::testing::linked_plugin;
using Catch::Matchers::Contains;
using normcheck::numeric::DType;
using normcheck::testing::make_problem;
using normcheck::testing::set_dtypes;

TEST_CASE("the table identifies the plugin", "[torch][supports]") {
  const nc_backend_v1& t = plugin();
  CHECK(t.abi_version == NORMCHECK_BACKEND_ABI_VERSION);
  CHECK(std::string(t.name) == "torch");
  CHECK_THAT(std::string(t.version), Contains("1.13"));
}

TEST_CASE("every op but Conv-BN folding runs in f32, f64 and bf16", "[torch][supports]") {
  const auto dtype = GENERATE(DType::f32, DType::f64, DType::bf16);
  const auto op = GENERATE(NC_OP_BATCH_NORM, NC_OP_LAYER_NORM, NC_OP_RMS_NORM, NC_OP_GROUP_NORM,
                           NC_OP_INSTANCE_NORM);
  auto p = make_problem(op, {2, 4, 3}, dtype);
  if (op == NC_OP_GROUP_NORM) p.groups = 2;
  const auto r = supports(p);
  INFO(r.message);
  CHECK(r.status == NC_OK);
}

TEST_CASE("what ATen 1.13 lacks or would round is declined with the reason", "[torch][supports]") {
  struct Case {
    nc_op op;
    DType data, param, stats;
    const char* reason;
  };
  const auto c = GENERATE(
      Case{NC_OP_LAYER_NORM, DType::f16, DType::f16, DType::f32, "Half"},
      Case{NC_OP_BATCH_NORM, DType::f16, DType::f16, DType::f32, "Half"},
      Case{NC_OP_LAYER_NORM, DType::bf16, DType::f32, DType::f32, "parameters would be rounded"},
      Case{NC_OP_GROUP_NORM, DType::bf16, DType::f32, DType::f32, "parameters would be rounded"},
      Case{NC_OP_BATCH_NORM, DType::f32, DType::f32, DType::f64, "would be rounded"});
  auto p = make_problem(c.op, {2, 4, 3}, c.data);
  set_dtypes(p, c.data, c.param, c.stats);
  if (c.op == NC_OP_GROUP_NORM) p.groups = 2;
  const auto r = supports(p);
  CHECK(r.status == NC_UNSUPPORTED);
  CHECK_THAT(r.message, Contains(c.reason));
}

TEST_CASE("running-statistics conventions other than PyTorch's are declined, not emulated",
          "[torch][supports]") {
  const bool paddle = GENERATE(false, true);
  const bool biased = GENERATE(false, true);
  const auto mode = GENERATE(NC_MODE_TRAIN, NC_MODE_EVAL);
  auto p = make_problem(NC_OP_BATCH_NORM, {2, 4, 3}, DType::f32);
  if (paddle) p.momentum_convention = NC_MOMENTUM_PADDLE;
  if (biased) p.running_var_estimator = NC_VARIANCE_BIASED;
  p.mode = mode;
  // Eval updates nothing, so the convention does not matter there.
  const bool torch_convention = !paddle && !biased;
  CHECK(supports(p).status == (torch_convention || mode == NC_MODE_EVAL ? NC_OK : NC_UNSUPPORTED));
}

TEST_CASE("Conv-BN folding and untrainable instance norm are declined", "[torch][supports]") {
  auto fold = make_problem(NC_OP_CONV_BN_FOLD, {1, 2, 3, 3}, DType::f32);
  CHECK_THAT(supports(fold).message, Contains("Conv-BN"));
  auto in = make_problem(NC_OP_INSTANCE_NORM, {2, 4}, DType::f32);
  const auto r = supports(in);
  CHECK(r.status == NC_UNSUPPORTED);
  CHECK_THAT(r.message, Contains("one value per channel"));
}

TEST_CASE("a malformed call is an invalid argument", "[torch][errors]") {
  auto p = make_problem(NC_OP_LAYER_NORM, {2, 4}, DType::f32);
  normcheck::testing::Inputs in;
  in.x = normcheck::testing::HostTensor(DType::f32, {2, 4});
  auto r = normcheck::testing::run_forward(plugin(), p, in);  // gamma and beta missing
  CHECK(r.status == NC_INVALID_ARGUMENT);
  CHECK_THAT(r.message, Contains("gamma"));
}
