#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "normcheck/compare/tolerances.hpp"
#include "normcheck/model/problem.hpp"

using Catch::Matchers::Contains;
using normcheck::compare::glob_match;
using normcheck::compare::Tolerances;
using normcheck::model::InputError;

namespace {

const char* const kFile = R"(
schema_version = 1

[default]
max_bound_ratio = 1.0
require_nan_placement = true

[backend.cpu]
require_determinism = true

[backend.loose]
max_bound_ratio = 4

[backend.gpu]
allow_unsupported = true

[[expected_fail]]
backend = "naive"
case = "*:f32:*dist=offset*"
reason = "E[x^2]-E[x]^2"

[[limit]]
op = "layer_norm"
max_bound_ratio = 2.0

[[limit]]
backend = "cpu"
op = "layer_norm"
check = "dx"
dtype = "bf16"
max_bound_ratio = 3.0
max_ulp = 8
note = "blocked backward"
)";

}  // namespace

TEST_CASE("limits come from the most specific matching rule") {
  const auto t = Tolerances::parse(kFile, "t.toml");
  CHECK(t.limit("cpu", "batch_norm", "y", "f32").max_bound_ratio == 1.0);
  CHECK(t.limit("cpu", "layer_norm", "y", "f32").max_bound_ratio == 2.0);
  const auto l = t.limit("cpu", "layer_norm", "dx", "bf16");
  CHECK(l.max_bound_ratio == 3.0);
  CHECK(l.max_ulp == 8.0);
  CHECK_FALSE(t.limit("cpu", "layer_norm", "dx", "f32").max_ulp);
  SECTION("a backend table sets that backend's default") {
    CHECK(t.limit("loose", "batch_norm", "y", "f32").max_bound_ratio == 4.0);
    CHECK(t.limit("loose", "layer_norm", "y", "f32").max_bound_ratio == 2.0);
  }
  SECTION("an unknown backend gets the default") {
    CHECK(t.limit("never-heard-of", "rms_norm", "y", "f16").max_bound_ratio == 1.0);
  }
}

TEST_CASE("property requirements: backend table over default") {
  const auto t = Tolerances::parse(kFile, "t.toml");
  CHECK(t.requirements("cpu").determinism);
  CHECK(t.requirements("cpu").nan_placement);
  CHECK_FALSE(t.requirements("cpu").batch_invariance);
  CHECK_FALSE(t.requirements("other").determinism);
  CHECK(t.requirements("other").nan_placement);
}

TEST_CASE("allow_unsupported: only where a backend table says so; kept through to_toml") {
  const auto t = Tolerances::parse(kFile, "t.toml");
  CHECK(t.allows_unsupported("gpu"));
  CHECK_FALSE(t.allows_unsupported("cpu"));
  CHECK_FALSE(t.allows_unsupported("other"));
  CHECK(Tolerances::parse(t.to_toml("x"), "again").allows_unsupported("gpu"));
  CHECK_THROWS_WITH(
      Tolerances::parse("schema_version = 1\n[backend.gpu]\nallow_unsupported = 1\n", "b.toml"),
      Contains("b.toml:3"));
}

TEST_CASE("expected failures match backend, case glob and check") {
  const auto t = Tolerances::parse(kFile, "t.toml");
  const auto* e = t.expected_failure("naive", "ln:f32:f32:4x768:eps=1e-5:dist=offset", "y");
  REQUIRE(e != nullptr);
  CHECK(e->reason == "E[x^2]-E[x]^2");
  CHECK(t.expected_failure("cpu", "ln:f32:f32:4x768:eps=1e-5:dist=offset", "y") == nullptr);
  CHECK(t.expected_failure("naive", "ln:bf16:bf16:4x768:eps=1e-5:dist=offset", "y") == nullptr);
}

TEST_CASE("bad tolerance files are rejected with file, line and what is wrong") {
  SECTION("unknown key") {
    CHECK_THROWS_WITH(
        Tolerances::parse("schema_version = 1\n[default]\nmax_bound_raito = 2\n", "f.toml"),
        Contains("f.toml:3") && Contains("unknown key 'max_bound_raito'"));
  }
  SECTION("unknown key in a limit") {
    CHECK_THROWS_WITH(
        Tolerances::parse("schema_version = 1\n[[limit]]\nopp = \"x\"\nmax_ulp = 1\n", "f.toml"),
        Contains("unknown key 'opp'"));
  }
  SECTION("negative limit") {
    CHECK_THROWS_WITH(
        Tolerances::parse(
            "schema_version = 1\n[[limit]]\nop = \"layer_norm\"\nmax_bound_ratio = -1\n", "f.toml"),
        Contains("f.toml:4") && Contains("must be >= 0"));
  }
  SECTION("a limit that is infinite, NaN or absurd") {
    // Before: inf and 1e308 were accepted (NaN was refused as negative).
    for (const char* value : {"inf", "+inf", "nan", "1e308", "1000001.0"}) {
      CAPTURE(value);
      CHECK_THROWS_WITH(
          Tolerances::parse(fmt::format("schema_version = 1\n[[limit]]\nop = \"layer_norm\"\n"
                                        "max_bound_ratio = {}\n",
                                        value),
                            "f.toml"),
          Contains("f.toml:4") && Contains("must be finite and at most 1e+06"));
    }
    CHECK_THROWS_WITH(
        Tolerances::parse("schema_version = 1\n[default]\nmax_ulp = 1e10\n", "f.toml"),
        Contains("f.toml:3") && Contains("max_ulp") && Contains("at most 1e+09"));
    CHECK_THROWS_WITH(
        Tolerances::parse("schema_version = 1\n[backend.cpu]\nmax_bound_ratio = inf\n", "f.toml"),
        Contains("f.toml:3") && Contains("[backend.cpu].max_bound_ratio"));
    CHECK(Tolerances::parse("schema_version = 1\n[default]\nmax_bound_ratio = 1e6\n", "f.toml")
              .default_limit.max_bound_ratio == 1e6);
  }
  SECTION("another schema version") {
    CHECK_THROWS_WITH(Tolerances::parse("schema_version = 2\n", "f.toml"),
                      Contains("schema_version must be 1"));
  }
  SECTION("missing schema version") {
    CHECK_THROWS_WITH(Tolerances::parse("[default]\n", "f.toml"),
                      Contains("missing schema_version"));
  }
  SECTION("syntax error") {
    CHECK_THROWS_AS(Tolerances::parse("schema_version = = 1\n", "f.toml"), InputError);
  }
  SECTION("wrong type") {
    CHECK_THROWS_WITH(
        Tolerances::parse("schema_version = 1\n[default]\nrequire_determinism = 1\n", "f.toml"),
        Contains("true or false"));
  }
  SECTION("an expected failure without a reason") {
    CHECK_THROWS_WITH(
        Tolerances::parse("schema_version = 1\n[[expected_fail]]\nbackend = \"a\"\ncase = \"*\"\n",
                          "f.toml"),
        Contains("reason"));
  }
  SECTION("missing file") {
    CHECK_THROWS_WITH(Tolerances::load("/nonexistent/x.toml"), Contains("cannot open"));
  }
  SECTION("not a regular file") {
    // Before: read /dev/zero until std::bad_alloc.
    CHECK_THROWS_WITH(Tolerances::load("/dev/zero"),
                      Contains("tolerance file '/dev/zero'") && Contains("not a regular file"));
  }
}

TEST_CASE("to_toml writes a file that reads back to the same tolerances") {
  const auto t = Tolerances::parse(kFile, "t.toml");
  const std::string text = t.to_toml("regenerated\nfrom a run");
  CHECK_THAT(text, Contains("# regenerated\n# from a run\n"));
  const auto back = Tolerances::parse(text, "back.toml");
  CHECK(back.to_toml("regenerated\nfrom a run") == text);
  CHECK(back.limit("cpu", "layer_norm", "dx", "bf16").max_ulp == 8.0);
  CHECK(back.requirements("cpu").determinism);
  CHECK(back.expected_failure("naive", "ln:f32:f32:8:eps=1e-5:dist=offset", "dx") != nullptr);
  CHECK(back.limits[1].note == "blocked backward");
}

TEST_CASE("glob_match: * crosses ':' and matches the whole string") {
  CHECK(glob_match("ln:*", "ln:f32:4x8"));
  CHECK_FALSE(glob_match("ln", "ln:f32"));
  CHECK(glob_match("*dist=offset*", "bn:f32:2x3:dist=offset:seed=2"));
  CHECK(glob_match("bn:f?2:*", "bn:f32:x"));
}

TEST_CASE("a limit's op, check and dtype must name something the check table knows") {
  const auto limit = [](const std::string& field) {
    return "schema_version = 1\n[[limit]]\n" + field + "\nmax_bound_ratio = 2\n";
  };
  SECTION("a misspelt check is rejected with the valid ones listed") {
    CHECK_THROWS_WITH(Tolerances::parse(limit("check = \"savedmean\""), "f.toml"),
                      Contains("f.toml:3") && Contains("\"savedmean\" matches no check") &&
                          Contains("saved_mean") && Contains("batch_invariance"));
  }
  SECTION("an unknown op lists both names of every op") {
    CHECK_THROWS_WITH(Tolerances::parse(limit("op = \"layernorm\""), "f.toml"),
                      Contains("matches no op") &&
                          Contains("layer_norm") && Contains("conv_bn"));
  }
  SECTION("an unknown dtype") {
    CHECK_THROWS_WITH(Tolerances::parse(limit("dtype = \"fp32\""), "f.toml"),
                      Contains("matches no dtype") && Contains("bf16"));
  }
  SECTION("an expected failure's check too") {
    CHECK_THROWS_WITH(
        Tolerances::parse("schema_version = 1\n[[expected_fail]]\nbackend = \"a\"\ncase = \"*\"\n"
                          "check = \"determinsm\"\nreason = \"r\"\n",
                          "f.toml"),
        Contains("matches no check"));
  }
  SECTION("a glob is valid when it matches one") {
    const auto t = Tolerances::parse(limit("check = \"d*\""), "f.toml");
    CHECK(t.limit("cpu", "batch_norm", "dx", "f32").max_bound_ratio == 2.0);
    CHECK_THROWS_WITH(Tolerances::parse(limit("check = \"zz*\""), "f.toml"),
                      Contains("matches no check"));
  }
  SECTION("the descriptor's short op name means the long one") {
    const auto t = Tolerances::parse(limit("op = \"ln\""), "f.toml");
    CHECK(t.limits.front().op == "layer_norm");
    CHECK(t.limit("cpu", "layer_norm", "y", "f32").max_bound_ratio == 2.0);
    CHECK(t.limit("cpu", "rms_norm", "y", "f32").max_bound_ratio == 1.0);
  }
}
