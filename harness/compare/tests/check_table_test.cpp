#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "normcheck/compare/check_table.hpp"
#include "normcheck/compare/error_model.hpp"
#include "normcheck/fixture/schema.hpp"
#include "normcheck/model/problem.hpp"

using namespace normcheck;
using compare::Check;

TEST_CASE("every golden a fixture holds is owned by one check that bounds it") {
  // Descriptors covering every golden dataset the schema declares.
  for (const char* d : {"ln:bf16:f32:4x64:res=1", "rms:f16:3x33", "bn:f32:4x6x3x3:steps=3",
                        "in:f32:2x4x5x5:track=1:steps=2", "gn:f32:2x8x4x4:g=4",
                        "bn:f32:2x3x3x3:mode=eval", "cbn:f32:2x3x8x8:oc=4:k=3x3"}) {
    const auto p = model::parse_descriptor(d);
    for (const auto& s : fixture::dataset_specs(p)) {
      if (s.section != fixture::Section::golden) continue;
      INFO(d << " golden " << s.name);
      const auto owner = compare::owner_of_golden(s.name);
      // kappa is context, conv_bn_y is bounded through the folded parameters.
      if (s.name == fixture::names::kappa) {
        CHECK(owner.check == nullptr);
        continue;
      }
      if (s.name == fixture::names::conv_bn_y) {
        CHECK(owner.check == nullptr);
        CHECK(compare::spec(Check::conv_bn_y).golden == s.name);
        continue;
      }
      REQUIRE(owner.check != nullptr);
      CHECK(compare::golden_name(*owner.check, owner.step) == s.name);
    }
  }
}

TEST_CASE("per-step goldens are the fixture's names for each step") {
  for (int k : {1, 2, 7}) {
    CHECK(compare::golden_name(compare::spec(Check::running_mean), k) ==
          fixture::names::running_mean_step(k));
    CHECK(compare::golden_name(compare::spec(Check::running_var), k) ==
          fixture::names::running_var_step(k));
    const auto owner = compare::owner_of_golden(fixture::names::running_var_step(k));
    REQUIRE(owner.check != nullptr);
    CHECK(owner.check->id == Check::running_var);
    CHECK(owner.step == k);
  }
  CHECK(compare::owner_of_golden("running_mean_step").check == nullptr);
  CHECK(compare::owner_of_golden("running_mean_step0").check == nullptr);
  CHECK(compare::owner_of_golden("running_mean_step2x").check == nullptr);
}

TEST_CASE("rows are indexed by their ids and names are unique") {
  std::set<std::string_view> names;
  for (const auto& c : compare::check_table()) {
    CHECK(&compare::spec(c.id) == &c);
    CHECK(names.insert(c.name).second);
    // A tensor check reads one output of the backend; the bound is its golden's.
    if (c.kind == compare::Kind::tensor || c.kind == compare::Kind::per_step) {
      REQUIRE(c.output);
      CHECK(compare::owner_of_golden(compare::golden_name(c, 1)).check != nullptr);
    }
  }
  for (const auto& o : compare::output_table()) CHECK(&compare::spec(o.id) == &o);
}

TEST_CASE("a golden's dtype is its check's role, as the schema stores the inputs") {
  const auto p = model::parse_descriptor("bn:bf16:f32:f64:4x6x3x3");
  CHECK(compare::dtype_of(compare::spec(Check::y).role, p) == numeric::DType::bf16);
  CHECK(compare::dtype_of(compare::spec(Check::dgamma).role, p) == numeric::DType::f32);
  CHECK(compare::dtype_of(compare::spec(Check::saved_rstd).role, p) == numeric::DType::f64);
  CHECK(compare::dtype_of(compare::spec(Check::running_var).role, p) == numeric::DType::f64);
  CHECK(compare::dtype_of(compare::spec(Check::dresidual).role, p) == numeric::DType::bf16);
  // The running statistics the backend updates are stored like the inputs it reads.
  for (const auto& s : fixture::dataset_specs(p))
    if (s.name == fixture::names::running_mean)
      CHECK(s.dtype == compare::dtype_of(compare::spec(compare::Output::running_mean).role, p));
}
