// The backend table and the C ABI boundary: every call runs inside
// support::guarded, so no exception (the adapter's, the support library's,
// or a c10::Error from ATen, turned into AtenError with ATen's message)
// leaves the library.
#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/version.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "aten_ops.hpp"
#include "capability.hpp"
#include "kernel_dtypes.hpp"
#include "normcheck/backend.h"
#include "normcheck/support/status.hpp"

namespace normcheck::torch_adapter {

namespace {

// Intra-op threads, once per process: OMP_NUM_THREADS when set (normcheck
// bench sets it for every backend, and oneDNN's OpenMP reads it too), else
// two - the cores of the CI machine, where the other backends use two.
int thread_count() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  const int n = env != nullptr ? std::atoi(env) : 0;
  return n > 0 ? n : 2;
}

void configure_threads() {
  static std::once_flag once;
  std::call_once(once, [] { at::set_num_threads(thread_count()); });
}

KernelDtypes require_supported(const nc_problem* p) {
  if (auto reason = unsupported_reason(p)) throw support::Unsupported(*reason);
  return std::get<KernelDtypes>(kernel_dtypes(*p, support::geometry_of(p)));
}

void require_local(const nc_collectives* collectives) {
  if (collectives != nullptr)
    throw support::Unsupported(
        "libtorch's SyncBatchNorm needs a torch.distributed process group; "
        "it is not driven through the ABI's collectives");
}

nc_status supports(const nc_problem* p, char* reason, size_t reason_size) {
  return support::guarded(reason, reason_size, [&] { require_supported(p); });
}

nc_status forward(const nc_problem* p, const nc_forward_args* args, char* message, size_t size) {
  return support::guarded(message, size, [&] {
    const KernelDtypes k = require_supported(p);
    const auto call = support::resolve_forward(p, args);
    require_local(call.collectives);
    configure_threads();
    switch (p->op) {
      case NC_OP_BATCH_NORM:
        return batch_norm_forward(call, k);
      case NC_OP_LAYER_NORM:
        return layer_norm_forward(call, k);
      case NC_OP_GROUP_NORM:
        return group_norm_forward(call, k);
      case NC_OP_INSTANCE_NORM:
        return instance_norm_forward(call, k);
      case NC_OP_RMS_NORM:
        return rms_norm_forward(call, k);
      case NC_OP_CONV_BN_FOLD:
        break;
    }
  });
}

nc_status backward(const nc_problem* p, const nc_backward_args* args, char* message, size_t size) {
  return support::guarded(message, size, [&] {
    const KernelDtypes k = require_supported(p);
    const auto call = support::resolve_backward(p, args);
    require_local(call.collectives);
    configure_threads();
    switch (p->op) {
      case NC_OP_BATCH_NORM:
        return batch_norm_backward(call, k);
      case NC_OP_LAYER_NORM:
        return layer_norm_backward(call, k);
      case NC_OP_GROUP_NORM:
        return group_norm_backward(call, k);
      case NC_OP_INSTANCE_NORM:
        return instance_norm_backward(call, k);
      case NC_OP_RMS_NORM:
        return rms_norm_backward(call, k);
      case NC_OP_CONV_BN_FOLD:
        break;
    }
  });
}

nc_status conv_bn_fold(const nc_problem*, const nc_conv_bn_fold_args*, char* message, size_t size) {
  return support::guarded(message, size, [] {
    throw support::Unsupported(
        "ATen has no Conv-BN folding op (PyTorch folds in Python, torch.nn.utils.fusion)");
  });
}

}  // namespace

}  // namespace normcheck::torch_adapter

extern "C" __attribute__((visibility("default"))) const nc_backend_v1* normcheck_backend_v1(void) {
  using namespace normcheck::torch_adapter;
  static const std::string version = "libtorch (ATen) " + std::to_string(TORCH_VERSION_MAJOR) +
                                     "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                                     std::to_string(TORCH_VERSION_PATCH) + ", CPU";
  static const nc_backend_v1 table{NORMCHECK_BACKEND_ABI_VERSION,
                                   "torch",
                                   version.c_str(),
                                   &supports,
                                   &forward,
                                   &backward,
                                   &conv_bn_fold};
  return &table;
}
