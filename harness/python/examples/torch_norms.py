"""Validate torch's layer_norm, group_norm and batch_norm from Python.

    PYTHONPATH=build/python /usr/bin/python3 harness/python/examples/torch_norms.py [REPORT_DIR]

torch.nn.functional.layer_norm / group_norm / batch_norm call ATen's
native_layer_norm / native_group_norm / native_batch_norm (and their
backwards under autograd); those return the saved statistics the harness
checks too, so the backend below calls them directly. Dtype choices follow
the libtorch C++ adapter (impls/torch/src/kernel_dtypes.cpp) so that the two
paths must agree case by case (harness/python/tests/test_torch_example.py):
gamma/beta in the data dtype for layer and group norm, f32 parameters and
statistics for bf16 batch norm unless the problem asks for all-bf16, saved
statistics read back in the data dtype by the layer/group norm backwards,
and f16 declined (ATen 1.13 has no CPU f16 kernels).
"""

from __future__ import annotations

import sys

import torch

import normcheck

_DTYPES = {"f64": torch.float64, "f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}


def _widens_exactly(src, dst):
    return src == dst or dst == "f64" or (dst == "f32" and src in ("f16", "bf16"))


def supports(problem):
    """Declines what the C++ adapter declines, for the same reasons."""
    data = problem["dtype"]
    if data == "f16":
        return "ATen 1.13 has no CPU f16 normalization kernels"
    param = stats = data  # the kernel dtypes of layer and group norm
    if problem["op"] == "batch_norm":
        if data == "bf16" and not problem_is_all_bf16(problem):
            param = stats = "f32"
        if not _widens_exactly(problem["stats_dtype"], stats):
            return f"ATen 1.13 keeps {data} running statistics in {stats}"
    if not _widens_exactly(problem["param_dtype"], param):
        return f"ATen 1.13 takes {data} {problem['op']} gamma/beta in {param}; they would be rounded"
    return None


def _as(t, dtype):
    return None if t is None else t.to(dtype)


def _bn_dtype(problem, x):
    # bf16 data: the all-bf16 path only for bf16 parameters and statistics.
    if x.dtype == torch.bfloat16 and not (problem_is_all_bf16(problem)):
        return torch.float32
    return x.dtype


def problem_is_all_bf16(problem):
    return problem["param_dtype"] == "bf16" and problem["stats_dtype"] == "bf16"


class TorchNorms:
    """The backend: one method per op, torch's native_* signatures."""

    def __init__(self):
        self.problem = None

    def supports(self, problem):
        self.problem = problem  # batch norm's kernel dtype depends on it
        return supports(problem)

    @staticmethod
    def layer_norm(x, normalized_shape, gamma, beta, eps):
        return torch.native_layer_norm(x, normalized_shape, _as(gamma, x.dtype), _as(beta, x.dtype), eps)

    @staticmethod
    def layer_norm_backward(dy, x, normalized_shape, mean, rstd, gamma, beta, mask):
        if gamma is None and mask[1]:
            gamma = torch.ones(normalized_shape, dtype=x.dtype)
        bias = torch.zeros(normalized_shape, dtype=x.dtype) if mask[2] else None
        return torch.ops.aten.native_layer_norm_backward(
            dy, x, normalized_shape, mean.to(x.dtype), rstd.to(x.dtype), _as(gamma, x.dtype), bias, mask)

    @staticmethod
    def group_norm(x, gamma, beta, n, c, hw, groups, eps):
        x = x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 and x.stride(1) == 1 and c > 1 \
            else x.contiguous()
        return torch.native_group_norm(x, _as(gamma, x.dtype), _as(beta, x.dtype), n, c, hw, groups, eps)

    @staticmethod
    def group_norm_backward(dy, x, mean, rstd, gamma, n, c, hw, groups, mask):
        # ATen 1.13's backward reads NCHW whatever the strides: contiguous first.
        if gamma is None and mask[1]:
            gamma = torch.ones(c, dtype=x.dtype)
        return torch.ops.aten.native_group_norm_backward(
            dy.contiguous(), x.contiguous(), mean.to(x.dtype), rstd.to(x.dtype), _as(gamma, x.dtype),
            n, c, hw, groups, mask)

    def batch_norm(self, x, gamma, beta, running_mean, running_var, training, momentum, eps):
        k = _bn_dtype(self.problem, x)
        rm, rv = _as(running_mean, k), _as(running_var, k)
        y, mean, rstd = torch.native_batch_norm(x, _as(gamma, k), _as(beta, k), rm, rv, training, momentum, eps)
        if training and running_mean is not None:  # torch updated rm/rv; hand them back in place
            running_mean.copy_(rm)
            running_var.copy_(rv)
        return y, mean, rstd

    def batch_norm_backward(self, dy, x, gamma, running_mean, running_var, save_mean, save_invstd, training,
                            eps, mask):
        k = _bn_dtype(self.problem, x)
        c = x.shape[1]
        if gamma is None and mask[1]:
            gamma = torch.ones(c, dtype=k)
        if training:
            running_mean = running_var = None
        else:
            save_mean = save_invstd = None
        return torch.ops.aten.native_batch_norm_backward(
            dy, x, _as(gamma, k), _as(running_mean, k), _as(running_var, k), _as(save_mean, k),
            _as(save_invstd, k), training, eps, mask)


def main(report=None):
    result = normcheck.run(backend=TorchNorms(), tensors="torch", suite="quick",
                           filter="re:^(ln|gn|bn):", name="torch-python", report=report)
    print(result.summary())
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
