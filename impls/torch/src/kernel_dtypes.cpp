#include "kernel_dtypes.hpp"

namespace normcheck::torch_adapter {

namespace {

std::string name(DType t) {
  return std::string(numeric::dtype_name(t));
}

std::string op_name(nc_op op) {
  switch (op) {
    case NC_OP_BATCH_NORM:
      return "batch_norm";
    case NC_OP_LAYER_NORM:
      return "layer_norm";
    case NC_OP_GROUP_NORM:
      return "group_norm";
    case NC_OP_INSTANCE_NORM:
      return "instance_norm";
    default:
      return "this op";
  }
}

}  // namespace

bool widens_exactly(DType from, DType to) {
  if (from == to || to == DType::f64) return true;
  return to == DType::f32 && (from == DType::f16 || from == DType::bf16);
}

std::variant<KernelDtypes, std::string> kernel_dtypes(const nc_problem& p,
                                                      const support::Geometry& g) {
  if (g.data == DType::f16)
    return std::string(
        "ATen 1.13 has no CPU f16 normalization kernels (\"not implemented for 'Half'\")");
  KernelDtypes k{g.data, g.data, g.data};
  switch (p.op) {
    case NC_OP_BATCH_NORM:
    case NC_OP_INSTANCE_NORM:
      // bf16 input: the all-bf16 path only when the problem asks for bf16
      // parameters and statistics, else the mixed path (f32 params and stats).
      if (g.data == DType::bf16 && !(g.param == DType::bf16 && g.stats == DType::bf16))
        k.param = k.stats = DType::f32;
      if (!widens_exactly(g.stats, k.stats))
        return "ATen 1.13 keeps " + name(g.data) + " running statistics in " + name(k.stats) +
               "; " + name(g.stats) + " statistics would be rounded";
      break;
    case NC_OP_LAYER_NORM:
    case NC_OP_GROUP_NORM:
      break;
    case NC_OP_RMS_NORM:
      // Composed (rms_norm.cpp): gamma/beta enter as given, statistics are
      // computed in f32 (f64 for f64 data).
      k.param = g.param;
      k.stats = g.data == DType::f64 ? DType::f64 : DType::f32;
      return k;
    case NC_OP_CONV_BN_FOLD:
      return std::string(
          "ATen has no Conv-BN folding op (PyTorch folds in Python, torch.nn.utils.fusion)");
  }
  if (!widens_exactly(g.param, k.param))
    return "ATen 1.13 takes " + name(g.data) + " " + op_name(p.op) + " gamma/beta in " +
           name(k.param) + "; " + name(g.param) + " parameters would be rounded";
  return k;
}

}  // namespace normcheck::torch_adapter
