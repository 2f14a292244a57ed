// Forward, then backward with the forward's saved statistics, on the cpu
// backend: the outputs a test compares between runs.
#pragma once

#include <catch2/catch.hpp>

#include "normcheck/cpu/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

namespace normcheck::cpu::testing {

struct Outputs {
  normcheck::testing::ForwardResult f;
  normcheck::testing::BackwardResult b;
};

inline Outputs run_forward_backward(const nc_problem& p, const normcheck::testing::Inputs& in) {
  Outputs o{normcheck::testing::run_forward(cpu::backend_table(), p, in), {}};
  REQUIRE(o.f.status == NC_OK);
  o.b = normcheck::testing::run_backward(cpu::backend_table(), p, in, o.f);
  REQUIRE(o.b.status == NC_OK);
  return o;
}

}  // namespace normcheck::cpu::testing
