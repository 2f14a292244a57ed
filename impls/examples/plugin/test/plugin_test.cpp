// The example plugin, loaded the way normcheck loads any plugin (dlopen +
// normcheck_backend_v1), against the naive backend: what it implements must
// agree, what it does not must be declined with a reason.
#include <dlfcn.h>
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "normcheck/naive/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::testing;

namespace {

struct Closer {
  void operator()(void* h) const { dlclose(h); }
};

const nc_backend_v1& plugin() {
  static const std::unique_ptr<void, Closer> handle(
      dlopen(NORMCHECK_EXAMPLE_PLUGIN, RTLD_NOW | RTLD_LOCAL));
  REQUIRE(handle != nullptr);
  const auto entry =
      reinterpret_cast<nc_backend_entry_v1>(dlsym(handle.get(), NORMCHECK_BACKEND_ENTRY_V1));
  REQUIRE(entry != nullptr);
  const nc_backend_v1* table = entry();
  REQUIRE(table->abi_version == NORMCHECK_BACKEND_ABI_VERSION);
  return *table;
}

}  // namespace

TEST_CASE("the example plugin agrees with naive on layer and rms norm", "[plugin]") {
  const auto op = GENERATE(NC_OP_LAYER_NORM, NC_OP_RMS_NORM);
  const auto dtype = GENERATE(DType::f64, DType::f32);
  auto p = make_problem(op, {6, 50}, dtype);
  set_dtypes(p, dtype, dtype, dtype);
  const auto in = random_inputs(p, 8);
  auto fp = run_forward(plugin(), p, in);
  auto fn = run_forward(naive::backend_table(), p, in);
  REQUIRE(fp.status == NC_OK);
  REQUIRE(fn.status == NC_OK);
  // Both well within a few hundred ulp of the data dtype on O(1) inputs.
  const double tolerance = 256 * numeric::unit_roundoff(dtype);
  CHECK(max_relative_error(fp.y.values(), fn.y.values()) < tolerance);
  CHECK(max_relative_error(fp.saved_rstd.values(), fn.saved_rstd.values()) < tolerance);
  const auto bp = run_backward(plugin(), p, in, fp);
  const auto bn = run_backward(naive::backend_table(), p, in, fn);
  REQUIRE(bp.status == NC_OK);
  CHECK(max_relative_error(bp.dx.values(), bn.dx.values()) < tolerance);
  CHECK(max_relative_error(bp.dgamma.values(), bn.dgamma.values()) < tolerance);
  CHECK(max_relative_error(bp.dbeta.values(), bn.dbeta.values()) < tolerance);
}

TEST_CASE("the example plugin declines what it does not implement", "[plugin]") {
  char reason[256];
  auto bn = make_problem(NC_OP_BATCH_NORM, {2, 3, 4});
  CHECK(plugin().supports(&bn, reason, sizeof reason) == NC_UNSUPPORTED);
  CHECK(std::string(reason).find("layer_norm and rms_norm only") != std::string::npos);
  auto half = make_problem(NC_OP_LAYER_NORM, {2, 8}, DType::bf16);
  CHECK(plugin().supports(&half, reason, sizeof reason) == NC_UNSUPPORTED);
  auto ln = make_problem(NC_OP_LAYER_NORM, {2, 8}, DType::f32);
  auto in = random_inputs(ln, 1);
  in.gamma = HostTensor();
  const auto r = run_forward(plugin(), ln, in);
  CHECK(r.status == NC_INVALID_ARGUMENT);
  CHECK(r.message.find("gamma is NULL") != std::string::npos);
}
