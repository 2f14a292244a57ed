#include "capability.hpp"

#include "batch_norm.hpp"
#include "descriptors.hpp"
#include "layer_norm.hpp"
#include "normcheck/support/geometry.hpp"
#include "normcheck/support/status.hpp"

namespace normcheck::onednn {

std::optional<std::string> unsupported_reason(const nc_problem* p) {
  if (p != nullptr && p->struct_size >= sizeof(nc_problem) && p->op == NC_OP_CONV_BN_FOLD)
    return "oneDNN's primitive API has no Conv-BN folding";
  const auto g = support::geometry_of(p);
  if (p->op == NC_OP_BATCH_NORM || p->op == NC_OP_LAYER_NORM) {
    if (auto reason = dtype_unsupported(g)) return reason;
  }
  try {
    switch (p->op) {
      case NC_OP_BATCH_NORM:
        return batch_norm_unsupported(*p, g);
      case NC_OP_LAYER_NORM:
        return layer_norm_unsupported(*p, g);
      case NC_OP_RMS_NORM:
        return "oneDNN 2.6 has no RMS normalization (its layer_normalization always centres)";
      case NC_OP_GROUP_NORM:
        return "oneDNN 2.6 has no group_normalization primitive";
      case NC_OP_INSTANCE_NORM:
        return "oneDNN 2.6 has no instance normalization primitive (not emulated through batch "
               "norm here)";
      case NC_OP_CONV_BN_FOLD:
        break;
    }
  } catch (const support::Unsupported& e) {
    return e.what();
  }
  return "op " + std::to_string(int(p->op)) + " is not one this backend knows";
}

}  // namespace normcheck::onednn
