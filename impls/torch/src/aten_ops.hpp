// The ATen calls behind each op. Native kernels (aten_ops.cpp):
//   batch_norm    at::native_batch_norm / at::native_batch_norm_backward
//                 train (running statistics updated by ATen itself: torch
//                 momentum, unbiased variance), eval, and global stats (eval
//                 forward + eval backward: ATen's way to treat the running
//                 statistics as constants in a training graph)
//   layer_norm    at::native_layer_norm / at::native_layer_norm_backward;
//                 the fused residual is composed: at::add into residual_out,
//                 then layer_norm of it, and dresidual = dx
//   group_norm    at::native_group_norm / at::native_group_norm_backward
// Composite ops (composite_ops.cpp), whose backward is PyTorch autograd:
//   instance_norm at::instance_norm (forward and running statistics); the
//                 saved statistics come from the batch_norm it runs on the
//                 (1, N*C, spatial) view, which is how ATen implements it
//   rms_norm      ATen 1.13 has none; composed as LLaMA-style code does in
//                 PyTorch (see composite_ops.cpp), with the residual as for
//                 layer_norm
#pragma once

#include "kernel_dtypes.hpp"
#include "normcheck/support/calls.hpp"

namespace normcheck::torch_adapter {

void batch_norm_forward(const support::ForwardCall& c, const KernelDtypes& k);
void batch_norm_backward(const support::BackwardCall& c, const KernelDtypes& k);
void layer_norm_forward(const support::ForwardCall& c, const KernelDtypes& k);
void layer_norm_backward(const support::BackwardCall& c, const KernelDtypes& k);
void group_norm_forward(const support::ForwardCall& c, const KernelDtypes& k);
void group_norm_backward(const support::BackwardCall& c, const KernelDtypes& k);
void instance_norm_forward(const support::ForwardCall& c, const KernelDtypes& k);
void instance_norm_backward(const support::BackwardCall& c, const KernelDtypes& k);
void rms_norm_forward(const support::ForwardCall& c, const KernelDtypes& k);
void rms_norm_backward(const support::BackwardCall& c, const KernelDtypes& k);

}  // namespace normcheck::torch_adapter
