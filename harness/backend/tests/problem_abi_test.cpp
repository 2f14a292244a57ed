#include <catch2/catch.hpp>

#include "normcheck/backend/problem_abi.hpp"

using normcheck::backend::to_abi;
using normcheck::model::parse_descriptor;

TEST_CASE("the ABI view of a problem carries its op, axis, flags and dtypes") {
  const nc_problem abi = to_abi(parse_descriptor("rms:f16:f32:2x3x8:axis=1:res=1:affine=s"));
  CHECK(abi.op == NC_OP_RMS_NORM);
  CHECK(abi.norm_axis == 1);
  CHECK(abi.flags == (NC_FLAG_SCALE | NC_FLAG_RESIDUAL));
  CHECK(abi.data_dtype.code == kDLFloat);
  CHECK(abi.data_dtype.bits == 16);
  CHECK(abi.param_dtype.bits == 32);
  CHECK(abi.struct_size == sizeof(nc_problem));
  const nc_problem bn = to_abi(parse_descriptor("bn:bf16:f32:4x3x5:layout=nhwc:mode=global:rs=paddle"));
  CHECK(bn.op == NC_OP_BATCH_NORM);
  CHECK(bn.layout == NC_LAYOUT_NHWC);
  CHECK(bn.mode == NC_MODE_GLOBAL_STATS);
  CHECK(bn.momentum_convention == NC_MOMENTUM_PADDLE);
  CHECK(bn.flags == (NC_FLAG_SCALE | NC_FLAG_SHIFT | NC_FLAG_TRACK_RUNNING_STATS));
  CHECK(bn.ndim == 3);
  CHECK(bn.shape[2] == 5);
}
