// The plugin as the harness sees it: it loads, speaks ABI version 1, and
// without a usable device every entry answers NC_UNSUPPORTED with the
// reason instead of crashing. On a machine with a device the no-device
// checks do not apply and say so.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "normcheck/testing/backend_call.hpp"
#include "plugin.hpp"

using normcheck::cuda::testing::Plugin;
using normcheck::cuda::testing::unavailable_reason;
namespace nt = normcheck::testing;
using normcheck::numeric::DType;

TEST_CASE("the cuda plugin loads and describes itself", "[cuda][plugin]") {
  const Plugin plugin;
  const nc_backend_v1& t = plugin.table();
  CHECK(t.abi_version == NORMCHECK_BACKEND_ABI_VERSION);
  CHECK(std::string(t.name) == "cuda");
  CHECK(std::string(t.version).find("CUDA") != std::string::npos);
  CHECK(t.supports != nullptr);
  CHECK(t.forward != nullptr);
  CHECK(t.backward != nullptr);
  CHECK(t.conv_bn_fold != nullptr);
}

TEST_CASE("without a CUDA device every entry declines with the reason", "[cuda][plugin]") {
  const Plugin plugin;
  const auto reason = unavailable_reason(plugin);
  if (!reason) {
    WARN("skipped: a usable CUDA device is present; cuda_device_tests cover this machine");
    return;
  }
  INFO("reason: " << *reason);
  // The device probe's wording, as README.md documents it.
  const bool no_device = reason->rfind("no CUDA device (cudaGetDeviceCount: ", 0) == 0;
  const bool too_old = reason->find("compute capability") != std::string::npos;
  CHECK((no_device || too_old));

  const nc_problem p = nt::make_problem(NC_OP_LAYER_NORM, {3, 16}, DType::f32);
  auto in = nt::random_inputs(p, 1);
  const auto fwd = nt::run_forward(plugin.table(), p, in);
  CHECK(fwd.status == NC_UNSUPPORTED);
  CHECK(fwd.message == *reason);
  auto fwd_copy = fwd;
  const auto bwd = nt::run_backward(plugin.table(), p, in, fwd_copy);
  CHECK(bwd.status == NC_UNSUPPORTED);
  CHECK(bwd.message == *reason);

  nc_problem fold = nt::make_problem(NC_OP_CONV_BN_FOLD, {1, 2, 4, 4}, DType::f32);
  nc_conv_bn_fold_args args{};
  char message[256] = "";
  CHECK(plugin.table().conv_bn_fold(&fold, &args, message, sizeof message) == NC_UNSUPPORTED);
  CHECK(std::string(message) == *reason);
}

TEST_CASE("a NULL message buffer is accepted", "[cuda][plugin]") {
  const Plugin plugin;
  const nc_problem p = nt::make_problem(NC_OP_BATCH_NORM, {4, 3}, DType::f32);
  const nc_status s = plugin.table().supports(&p, nullptr, 0);
  CHECK((s == NC_OK || s == NC_UNSUPPORTED));
}
