// The backend table and the C ABI boundary: every call runs inside
// support::guarded, which turns exceptions (the adapter's, the support
// library's, oneDNN's dnnl::error) into a status and a message, so no
// exception leaves the library.
#include <oneapi/dnnl/dnnl.hpp>

#include <string>

#include "batch_norm.hpp"
#include "capability.hpp"
#include "layer_norm.hpp"
#include "normcheck/backend.h"
#include "normcheck/support/calls.hpp"
#include "normcheck/support/status.hpp"

namespace normcheck::onednn {

namespace {

void require_supported(const nc_problem* p) {
  if (auto reason = unsupported_reason(p)) throw support::Unsupported(*reason);
}

nc_status supports(const nc_problem* p, char* reason, size_t reason_size) {
  return support::guarded(reason, reason_size, [&] { require_supported(p); });
}

nc_status forward(const nc_problem* p, const nc_forward_args* args, char* message, size_t size) {
  return support::guarded(message, size, [&] {
    require_supported(p);
    const auto call = support::resolve_forward(p, args);
    if (p->op == NC_OP_BATCH_NORM)
      batch_norm_forward(call);
    else
      layer_norm_forward(call);
  });
}

nc_status backward(const nc_problem* p, const nc_backward_args* args, char* message, size_t size) {
  return support::guarded(message, size, [&] {
    require_supported(p);
    const auto call = support::resolve_backward(p, args);
    if (p->op == NC_OP_BATCH_NORM)
      batch_norm_backward(call);
    else
      layer_norm_backward(call);
  });
}

nc_status conv_bn_fold(const nc_problem*, const nc_conv_bn_fold_args*, char* message, size_t size) {
  return support::guarded(message, size, [] {
    throw support::Unsupported("oneDNN's primitive API has no Conv-BN folding");
  });
}

std::string version_string() {
  const dnnl_version_t* v = dnnl::version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (" + v->hash + ", CPU engine)";
}

}  // namespace

}  // namespace normcheck::onednn

extern "C" __attribute__((visibility("default"))) const nc_backend_v1* normcheck_backend_v1(void) {
  using namespace normcheck::onednn;
  static const std::string version = version_string();
  static const nc_backend_v1 table{NORMCHECK_BACKEND_ABI_VERSION,
                                   "onednn",
                                   version.c_str(),
                                   &supports,
                                   &forward,
                                   &backward,
                                   &conv_bn_fold};
  return &table;
}
