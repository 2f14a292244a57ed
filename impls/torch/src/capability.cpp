#include "capability.hpp"

#include "kernel_dtypes.hpp"
#include "normcheck/support/geometry.hpp"

namespace normcheck::torch_adapter {

std::optional<std::string> unsupported_reason(const nc_problem* p) {
  if (p != nullptr && p->struct_size >= sizeof(nc_problem) && p->op == NC_OP_CONV_BN_FOLD)
    return "ATen has no Conv-BN folding op (PyTorch folds in Python, torch.nn.utils.fusion)";
  const auto g = support::geometry_of(p);
  const auto k = kernel_dtypes(*p, g);
  if (const auto* reason = std::get_if<std::string>(&k)) return *reason;

  // PyTorch's own running-statistics update is the one under test; other
  // conventions are declined, not emulated around it.
  if (support::updates_running_stats(*p)) {
    if (p->momentum_convention != NC_MOMENTUM_TORCH)
      return "PyTorch updates running statistics as (1 - m) * old + m * batch; the paddle momentum "
             "convention is not emulated";
    if (p->running_var_estimator != NC_VARIANCE_UNBIASED)
      return "PyTorch folds the unbiased batch variance into running_var; the biased estimator is "
             "not emulated";
  }
  if (p->op == NC_OP_INSTANCE_NORM && !support::uses_running_stats(*p) && g.spatial == 1)
    return "at::instance_norm without spatial dims runs batch_norm on one value per channel, which "
           "ATen rejects when it uses the input statistics";
  return std::nullopt;
}

}  // namespace normcheck::torch_adapter
