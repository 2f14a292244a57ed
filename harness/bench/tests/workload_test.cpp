// The traffic model and the workload list. Exact byte counts: the model is
// integer arithmetic on element counts and dtype sizes.
#include <catch2/catch.hpp>

#include "normcheck/bench/workload.hpp"

using namespace normcheck;
using namespace normcheck::bench;

TEST_CASE("layer norm moves x and y forward, x, dy and dx backward", "[bench]") {
  const auto w = workloads_for(model::Op::layer_norm, numeric::DType::bf16);
  REQUIRE(w.size() == 4);
  CHECK(w[0].shape_label == "8192x768");
  CHECK(w[0].direction == Direction::forward);
  // 2 tensors of 8192 * 768 bf16, gamma and beta (bf16), saved mean and rstd (f32).
  CHECK(w[0].bytes == 2.0 * 8192 * 768 * 2 + 2.0 * 768 * 2 + 2.0 * 8192 * 4);
  // x, dy, dx; gamma read, dgamma and dbeta written; saved statistics read.
  CHECK(w[1].bytes == 3.0 * 8192 * 768 * 2 + 3.0 * 768 * 2 + 2.0 * 8192 * 4);
  CHECK(w[2].shape_label == "8192x4096");
}

TEST_CASE("batch norm training counts the statistics pass", "[bench]") {
  const auto w = workloads_for(model::Op::batch_norm, numeric::DType::f32);
  REQUIRE(w.size() == 4);
  CHECK(w[0].shape_label == "32x256x28x28 nchw");
  CHECK(w[2].shape_label == "32x28x28x256 nhwc");
  const double tensor = 32.0 * 256 * 28 * 28 * 4;
  // x read twice and y written; gamma, beta; saved and running statistics.
  CHECK(w[0].bytes == 3 * tensor + 2.0 * 256 * 4 + 2.0 * 256 * 4 + 4.0 * 256 * 4);
  CHECK(w[1].bytes == 5 * tensor + 3.0 * 256 * 4 + 2.0 * 256 * 4);
}

TEST_CASE("group norm uses 32 groups and scale divides the batch", "[bench]") {
  const auto w = workloads_for(model::Op::group_norm, numeric::DType::f32, 8);
  REQUIRE(w.size() == 4);
  CHECK(w[0].problem.groups == 32);
  CHECK(w[0].problem.shape == std::vector<std::int64_t>{4, 256, 28, 28});
}
