// Which dtypes each ATen 1.13 CPU kernel is called with, and whether the
// problem's tensors get there exactly. No ATen header here: the capability
// query runs without touching the library.
//
// What ATen 1.13 accepts on CPU (probed, and enforced by its own checks):
// - no f16 normalization kernels at all ("not implemented for 'Half'");
// - layer_norm and group_norm: gamma/beta in the input dtype; their saved
//   mean/rstd come out in the input dtype (bf16 statistics for bf16 data);
// - batch_norm (and instance_norm, built on it): either everything in the
//   input dtype, or bf16 input with f32 gamma/beta/running statistics (its
//   "mixed dtype" path), whose saved statistics are f32.
// The adapter widens a parameter or running statistic to the kernel's dtype
// only when that is exact (bf16/f16 -> f32/f64, f32 -> f64); a problem that
// would need a narrowing is declined rather than silently rounded.
#pragma once

#include <string>
#include <variant>

#include "normcheck/support/geometry.hpp"

namespace normcheck::torch_adapter {

using numeric::DType;

struct KernelDtypes {
  DType data = DType::f32;
  DType param = DType::f32;  // gamma/beta as the kernel takes them
  DType stats = DType::f32;  // running and saved statistics as the kernel keeps them
};

// The kernel's dtypes, or the reason ATen cannot run the problem.
std::variant<KernelDtypes, std::string> kernel_dtypes(const nc_problem& p,
                                                      const support::Geometry& g);

// True when every value of `from` is a value of `to`.
bool widens_exactly(DType from, DType to);

}  // namespace normcheck::torch_adapter
