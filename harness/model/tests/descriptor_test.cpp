#include <catch2/catch.hpp>

#include "normcheck/model/problem.hpp"

using namespace normcheck::model;

TEST_CASE("descriptors in normalized form print back to the same string", "[descriptor]") {
  const std::string text = GENERATE(as<std::string>{},
      "ln:bf16:f32:4x128x768:eps=1e-5:dist=offset",
      "ln:f32:f32:8x16:eps=1e-5:dist=normal",
      "rms:f16:f32:2x3x1025:axis=1:res=1:eps=1e-6:dist=f16ovf:seed=7",
      "bn:f32:f32:2x3x5x5:layout=nhwc:mom=0.01:rs=paddle:var=biased:steps=3:eps=0.001:dist=offset",
      "bn:f32:f32:6x4x3x3:shards=1+2+3:eps=1e-5:dist=normal",
      "bn:bf16:f32:1x8x4x4:mode=eval:eps=1e-5:dist=uniform:gdist=signed_zeros:dydist=heavy",
      "gn:f64:f64:2x32x7x7:g=8:affine=s:eps=0:dist=tiny",
      "in:f32:f32:f64:2x4x9:mode=global:track=1:eps=1e-5:dist=const",
      "cbn:f32:f32:1x3x8x8:oc=4:k=3x3:pad=1:eps=1e-5:dist=normal");
  const Problem p = parse_descriptor(text);
  CHECK(to_descriptor(p) == text);
  CHECK(parse_descriptor(to_descriptor(p)) == p);
}

TEST_CASE("short forms normalize", "[descriptor]") {
  CHECK(to_descriptor(parse_descriptor("ln:f32:4x768")) == "ln:f32:f32:4x768:eps=1e-5:dist=normal");
  CHECK(to_descriptor(parse_descriptor("layer_norm:bf16:2x8:eps=0.00001")) ==
        "ln:bf16:bf16:2x8:eps=1e-5:dist=normal");
}

TEST_CASE("naming the default normalized axis is the same problem as omitting it", "[descriptor]") {
  // Found by harness/fuzz/descriptor_fuzz: axis=<last dim> printed without
  // the key, so the normalized form parsed back to another Problem.
  const Problem named = parse_descriptor("ln:f32:2x3x4x25:axis=3:dist=nonfinite");
  CHECK(named == parse_descriptor("ln:f32:2x3x4x25:dist=nonfinite"));
  CHECK(parse_descriptor(to_descriptor(named)) == named);
}

TEST_CASE("fields of a parsed problem", "[descriptor]") {
  const Problem p = parse_descriptor("ln:bf16:f32:4x128x768:eps=1e-5:dist=offset");
  CHECK(p.op == Op::layer_norm);
  CHECK(p.data == DType::bf16);
  CHECK(p.param == DType::f32);
  CHECK(p.stats == DType::f32);
  CHECK(p.stat_group_count() == 4 * 128);
  CHECK(p.stat_group_size() == 768);
  CHECK(p.param_count() == 768);
  CHECK(p.dist == Dist::offset);

  const Problem gn = parse_descriptor("gn:f32:2x32x7x7:g=8");
  CHECK(gn.stat_group_count() == 16);
  CHECK(gn.stat_group_size() == 4 * 49);
  CHECK(gn.param_count() == 32);

  const Problem bn = parse_descriptor("bn:f32:2x3x5x5:layout=nhwc");
  CHECK(bn.channels() == 5);  // channels last: shape is N, H, W, C
  CHECK(bn.stat_group_size() == 2 * 3 * 5);
  CHECK(bn.track_running_stats);

  const nc_problem abi = to_abi(parse_descriptor("rms:f16:f32:2x3x8:axis=1:res=1:affine=s"));
  CHECK(abi.op == NC_OP_RMS_NORM);
  CHECK(abi.norm_axis == 1);
  CHECK(abi.flags == (NC_FLAG_SCALE | NC_FLAG_RESIDUAL));
  CHECK(abi.data_dtype.code == kDLFloat);
  CHECK(abi.data_dtype.bits == 16);
  CHECK(abi.struct_size == sizeof(nc_problem));
}

namespace {
std::string error_field(const std::string& text) {
  try {
    parse_descriptor(text);
  } catch (const ProblemError& e) {
    return e.field();
  }
  return "<accepted>";
}
}  // namespace

TEST_CASE("bad descriptors name the offending field", "[descriptor]") {
  CHECK(error_field("xx:f32:4x8") == "op");
  CHECK(error_field("ln:f8:4x8") == "dtype");
  CHECK(error_field("ln:f32") == "descriptor");
  CHECK(error_field("ln:f32:4xq") == "shape");
  CHECK(error_field("ln:f32:4x0") == "shape");
  CHECK(error_field("ln:f32:4x-3") == "shape");
  CHECK(error_field("ln:f32:4294967296x4294967296") == "shape");  // 2^64 elements
  CHECK(error_field("ln:f32:4x8:eps=-1e-5") == "eps");
  CHECK(error_field("ln:f32:4x8:eps=abc") == "eps");
  CHECK(error_field("ln:f32:4x8:axis=2") == "axis");
  CHECK(error_field("ln:f32:4x8:color=red") == "color");
  CHECK(error_field("ln:f32:4x8:noequals") == "noequals");
  CHECK(error_field("gn:f32:2x6x4:g=4") == "g");
  CHECK(error_field("bn:f32:1x3x1x1") == "shape");      // one value per channel in training
  CHECK(error_field("bn:f32:1x3x1x1:mode=eval") == "<accepted>");
  CHECK(error_field("bn:f32:6x3x4:shards=1+2") == "shards");
  CHECK(error_field("ln:f32:6x3:steps=2") == "steps");
  CHECK(error_field("bn:f32:2x3x4:mom=1.5") == "mom");
  CHECK(error_field("gn:f32:2x6x4:res=1") == "res");
  CHECK(error_field("bn:f32:2x3x4:mode=eval:track=0") == "mode");
  CHECK(error_field("cbn:f32:1x3x2x2:oc=4:k=5x5") == "k");
}
