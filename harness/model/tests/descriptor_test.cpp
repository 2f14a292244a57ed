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

}

namespace {
struct Rejection {
  std::string field = "<accepted>", message = "<accepted>";
};
Rejection rejection(const std::string& text) {
  try {
    parse_descriptor(text);
  } catch (const ProblemError& e) {
    return {e.field(), e.what()};
  }
  return {};
}
std::string error_field(const std::string& text) { return rejection(text).field; }
std::string error_message(const std::string& text) { return rejection(text).message; }
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

TEST_CASE("keys that do not apply to the op are rejected, not dropped", "[descriptor]") {
  // Before: conv keys on other ops were parsed into an unused ConvGeometry.
  CHECK(error_field("ln:f32:4x8:pad=1") == "pad");
  CHECK(error_field("ln:f32:4x8:pad=-1") == "pad");
  CHECK(error_field("bn:f32:2x3x4:stride=2") == "stride");
  CHECK(error_field("gn:f32:2x6x4:g=2:k=3x3") == "k");
  CHECK(error_field("cbn:f32:1x3x8x8:oc=4:k=3x3:pad=-1") == "pad");
  CHECK(error_field("ln:f32:4x8:mom=0.5") == "mom");  // running statistics: bn, in only
  CHECK(error_field("ln:f32:4x8:mode=eval") == "mode");
  CHECK(error_field("gn:f32:2x6x4:g=2:layout=nhwc") == "<accepted>");
  CHECK(error_field("in:f32:2x3x4:track=1:mom=0.5") == "<accepted>");
  CHECK_THAT(error_message("ln:f32:4x8:pad=1"),
             Catch::Contains("applies to cbn only") && Catch::Contains("valid keys for ln: axis"));
}

TEST_CASE("integers that would be truncated or sizes that would overflow are rejected", "[descriptor]") {
  // Before: steps=4294967297 was stored as int(1), a silently different problem.
  CHECK(error_field("bn:f32:2x3x4:steps=4294967297") == "steps");
  CHECK(error_field("ln:f32:4x8:axis=4294967297") == "axis");
  CHECK(error_field("bn:f32:2x3x4:steps=101") == "steps");  // each step is a dataset of x
  CHECK(error_field("bn:f32:2x3x4:steps=100") == "<accepted>");
  CHECK(error_field("cbn:f32:1x3x8x8:oc=4:k=3x3:pad=4611686018427387904") == "pad");
  // Shards whose sum wraps to N = 2 were accepted before.
  CHECK(error_field("bn:f32:2x3x4:shards=9223372036854775807+9223372036854775807+4") == "shards");
}

TEST_CASE("a key given twice is rejected", "[descriptor]") {
  CHECK(error_field("ln:f32:4x8:eps=1e-5:eps=7") == "eps");
  CHECK_THAT(error_message("ln:f32:4x8:eps=1e-5:eps=7"), Catch::Contains("given twice"));
  CHECK(error_field("bn:f32:2x3x4:dist=normal:seed=2:dist=offset") == "dist");
}

TEST_CASE("unknown keys and values list the valid ones", "[descriptor]") {
  const std::string ln = error_message("ln:f32:4x8:epsilon=1e-5");
  CHECK_THAT(ln, Catch::Contains("epsilon") && Catch::Contains("unknown key"));
  CHECK_THAT(ln, Catch::Contains("valid keys for ln: axis, affine, res, eps, dist, gdist, dydist, seed"));
  CHECK_THAT(error_message("cbn:f32:1x3x8x8:oc=4:k=3x3:strides=2"),
             Catch::Contains("oc, k, stride, pad"));
  CHECK_THAT(error_message("ln:f32:4x8:dist=gaussian"),
             Catch::Contains("gaussian") &&
                 Catch::Contains("normal, uniform, offset, tiny, const, heavy, f16ovf, subnormal, nonfinite"));
  CHECK_THAT(error_message("ln:f32:4x8:gdist=zero"), Catch::Contains("normal, ones, signed_zeros"));
  // Every op by its descriptor name and the long name tolerance files use.
  CHECK_THAT(error_message("layernorm:f32:4x8"),
             Catch::Contains("bn (batch_norm), ln (layer_norm), rms (rms_norm), gn (group_norm), "
                             "in (instance_norm), cbn (conv_bn)"));
}

TEST_CASE("echoed descriptor text is cut short", "[descriptor]") {
  // A 1 MB field must not come back whole in the message (issue 13).
  const std::string huge(1 << 20, 'q');
  for (const std::string& text : {huge, "ln:f32:4x8:" + huge, "ln:f32:4x8:dist=" + huge,
                                  "ln:f32:4x8:" + huge + "=1", "ln:f32:" + huge})
    CHECK(error_message(text).size() < 400);
  CHECK_THAT(error_message("ln:f32:4x8:dist=" + huge), Catch::Contains("(1048576 bytes)"));
}
