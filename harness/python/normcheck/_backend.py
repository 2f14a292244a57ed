"""A Python backend as the C++ executor calls it.

The C++ side (module.cpp) turns each ABI call into
``Dispatcher.supports/forward/backward(problem, tensors)``, where ``tensors``
holds NumPy views of the executor's guarded buffers (inputs read-only) for
the duration of the call. This file maps that onto the user's op functions,
which follow torch's ``native_*`` calling conventions, and writes what they
return into the output buffers, rounded once to the dtype the harness asked
for. Framework tensors (torch, or any ``from_dlpack``) go both ways through
DLPack (dlpack_exchange.cpp): on the host or a CUDA device, bf16 included.
It returns ``(status, message)``; no exception crosses back into C++.
"""

from __future__ import annotations

import traceback

import numpy as np

from . import _normcheck
from ._bf16 import float_to_bf16_bits

NC_OK, NC_UNSUPPORTED, NC_INVALID_ARGUMENT, NC_INTERNAL_ERROR = 0, 1, 2, 3


class Unsupported(Exception):
    """Raise from an op function (or return a reason from ``supports``) to
    decline a problem: the case is reported ``unsupported``, not failed."""


# Op -> (forward function name, backward function name).
_FUNCTIONS = {
    "layer_norm": ("layer_norm", "layer_norm_backward"),
    "rms_norm": ("rms_norm", "rms_norm_backward"),
    "group_norm": ("group_norm", "group_norm_backward"),
    "batch_norm": ("batch_norm", "batch_norm_backward"),
}


def _lookup(backend, name):
    if isinstance(backend, dict):
        return backend.get(name)
    return getattr(backend, name, None)


def _channels_last(problem) -> bool:
    return problem["layout"] == "nhwc" and problem["op"] in ("batch_norm", "group_norm")


def _logical(a: np.ndarray, problem) -> np.ndarray:
    """Memory order (N, spatial..., C) -> logical (N, C, spatial...) view."""
    return np.moveaxis(a, -1, 1) if a is not None and _channels_last(problem) and a.ndim > 2 else a


# DLPack device types (dlpack.h).
_KDL_CPU, _KDL_CUDA = 1, 2


def _dlpack_device(device) -> tuple[int, int]:
    """None/"cpu" -> the host; "cuda" or "cuda:N" -> CUDA device N."""
    if device is None or str(device) == "cpu":
        return (_KDL_CPU, 0)
    kind, _, index = str(device).partition(":")
    if kind != "cuda" or not (index == "" or index.isdigit()):
        raise ValueError(f"device must be None, 'cpu', 'cuda' or 'cuda:N', not {device!r}")
    return (_KDL_CUDA, int(index or 0))


def _dlpack_source(value):
    """What dlpack_to_numpy reads: the object itself (the protocol, with the
    stream handshake a device tensor needs), or for a torch tensor on the
    host its capsule directly (torch's __dlpack_device__ is slow Python, and
    a host tensor needs no handshake)."""
    if type(value).__module__.startswith("torch"):
        value = value.detach()  # torch refuses to export a tensor that requires grad
        if value.device.type == "cpu":
            import torch.utils.dlpack
            return torch.utils.dlpack.to_dlpack(value)
    return value


def _resolve_tensors(tensors):
    """-> the framework's from_dlpack, or None for NumPy copies."""
    if tensors == "numpy":
        return None
    if tensors == "torch":
        import torch
        # A capsule, not the exporting object: torch's from_dlpack then skips
        # the protocol's Python-level device query (the data is already
        # complete on its device, so no stream handshake is needed).
        return lambda export: torch.from_dlpack(export.__dlpack__())
    if callable(tensors):
        return tensors
    raise ValueError(f"tensors must be 'numpy', 'torch' or a from_dlpack function, not {tensors!r}")


class Dispatcher:
    def __init__(self, backend, tensors="numpy", device: str | None = None):
        self.from_dlpack = _resolve_tensors(tensors)
        if device is not None and self.from_dlpack is None:
            raise ValueError("device= needs tensors='torch' or a from_dlpack function "
                             "(NumPy arrays live on the host)")
        self.device = _dlpack_device(device)
        self.backend = backend
        if not any(_lookup(backend, f) for f, _ in _FUNCTIONS.values()):
            raise ValueError("the backend implements none of " + ", ".join(f for f, _ in _FUNCTIONS.values()))

    # -- what the op functions see ------------------------------------------
    def _export(self, a: np.ndarray):
        """A harness array handed to the framework through DLPack, as a copy
        (on the device when one was asked for) with the same strides."""
        return self.from_dlpack(_normcheck.DLPackExport(a, *self.device))

    def _arg(self, a: np.ndarray | None, problem):
        if a is None:
            return None
        a = _logical(a, problem)
        if self.from_dlpack is None:
            return np.ascontiguousarray(a).copy()  # never a view of the harness's buffers past the call
        return self._export(a)  # channels-last data keeps its channels-last strides

    def _store(self, dest: np.ndarray | None, value, name: str, problem):
        if dest is None:
            return
        if value is None:
            raise ValueError(f"the backend returned None for {name}")
        if hasattr(value, "__dlpack__") and not isinstance(value, np.ndarray):
            # Any framework, host or CUDA: rounded once to the harness's dtype.
            value = _normcheck.dlpack_to_numpy(_dlpack_source(value), dest)
        value = np.asarray(value)
        target = _logical(dest, problem) if value.ndim == dest.ndim else dest
        if value.size != dest.size:
            raise ValueError(f"{name}: the backend returned {value.size} elements, the harness expects "
                             f"{dest.size} (shape {tuple(target.shape)})")
        value = value.reshape(target.shape)
        if dest.dtype == np.uint16 and value.dtype != np.uint16:
            value = float_to_bf16_bits(value)
        elif dest.dtype != np.uint16 and value.dtype == np.uint16:
            raise TypeError(f"{name}: bf16 bit patterns (uint16) returned for a {dest.dtype} output")
        np.copyto(target, value, casting="unsafe")

    def _call(self, body):
        try:
            body()
            return (NC_OK, "")
        except Unsupported as e:
            return (NC_UNSUPPORTED, str(e))
        except Exception as e:  # the backend's fault: an error record for this case
            where = traceback.extract_tb(e.__traceback__)[-1]
            return (NC_INTERNAL_ERROR, f"{type(e).__name__}: {e} ({where.filename}:{where.lineno})")

    # -- the ABI calls -------------------------------------------------------
    def supports(self, problem, _tensors):
        op = problem["op"]
        if op not in _FUNCTIONS or _lookup(self.backend, _FUNCTIONS[op][0]) is None:
            return (NC_UNSUPPORTED, f"this Python backend has no {op}")
        if problem["residual"]:
            return (NC_UNSUPPORTED, "fused residual add: not in torch's native_* conventions")
        if op == "batch_norm" and (problem["momentum_convention"] != "torch"
                                   or problem["running_var_estimator"] != "unbiased"):
            return (NC_UNSUPPORTED, "batch norm: torch's native_batch_norm convention is torch momentum "
                                    "and the unbiased running variance")
        check = _lookup(self.backend, "supports")
        if check is not None:
            try:
                reason = check(dict(problem))
            except Exception as e:
                return (NC_INTERNAL_ERROR, f"supports() raised {type(e).__name__}: {e}")
            if reason:
                return (NC_UNSUPPORTED, str(reason))
        return (NC_OK, "")

    def forward(self, problem, t):
        out = dict(t)

        def body():
            op = problem["op"]
            fn = _lookup(self.backend, _FUNCTIONS[op][0])
            a = lambda name: self._arg(t[name], problem)  # noqa: E731
            shape = problem["shape"]
            if op == "layer_norm":
                y, mean, rstd = fn(a("x"), list(shape[problem["norm_axis"]:]), a("gamma"), a("beta"), problem["eps"])
            elif op == "rms_norm":
                y, rstd = fn(a("x"), list(shape[problem["norm_axis"]:]), a("gamma"), problem["eps"])
                mean = None
            elif op == "group_norm":
                n, c, hw = self._nchw(problem)
                y, mean, rstd = fn(a("x"), a("gamma"), a("beta"), n, c, hw, problem["groups"], problem["eps"])
            else:  # batch_norm: running statistics are updated in place, as torch does
                # eval and global stats normalize with the running statistics
                # (training=False); only training saves and updates statistics.
                training = problem["mode"] == "train"
                rm, rv = a("running_mean"), a("running_var")
                y, mean, rstd = fn(a("x"), a("gamma"), a("beta"), rm, rv, training,
                                   problem["momentum"], problem["eps"])
                if not training:
                    mean = rstd = None
                    out["saved_mean"] = out["saved_rstd"] = None
                else:
                    self._store(t["running_mean"], rm, "running_mean", problem)
                    self._store(t["running_var"], rv, "running_var", problem)
            self._store(out["y"], y, "y", problem)
            self._store(out["saved_mean"], mean, "saved_mean", problem)
            self._store(out["saved_rstd"], rstd, "saved_rstd", problem)
        return self._call(body)

    def backward(self, problem, t):
        def body():
            op = problem["op"]
            fn = _lookup(self.backend, _FUNCTIONS[op][1])
            if fn is None:
                raise Unsupported(f"this Python backend has no {_FUNCTIONS[op][1]}")
            a = lambda name: self._arg(t[name], problem)  # noqa: E731
            mask = [True, t["dgamma"] is not None, t["dbeta"] is not None]
            shape = problem["shape"]
            x = a("x")
            if op == "layer_norm":
                normalized = list(shape[problem["norm_axis"]:])
                # torch's backward wants gamma when dgamma is asked for and
                # beta (for its shape only) when dbeta is: ones / zeros then.
                gamma = a("gamma") if t["gamma"] is not None else (self._filled(1, normalized, t["x"]) if mask[1] else None)
                beta = self._filled(0, normalized, t["x"]) if mask[2] else None
                dx, dg, db = fn(a("dy"), x, normalized, a("saved_mean"), a("saved_rstd"), gamma, beta, mask)
            elif op == "rms_norm":
                dx, dg = fn(a("dy"), x, list(shape[problem["norm_axis"]:]), a("saved_rstd"), a("gamma"), mask[:2])
                db = None
            elif op == "group_norm":
                n, c, hw = self._nchw(problem)
                gamma = a("gamma") if t["gamma"] is not None else (self._filled(1, [c], t["x"]) if mask[1] else None)
                dx, dg, db = fn(a("dy"), x, a("saved_mean"), a("saved_rstd"), gamma, n, c, hw,
                                problem["groups"], mask)
            else:
                c = self._nchw(problem)[1]
                gamma = a("gamma") if t["gamma"] is not None else (self._filled(1, [c], t["x"]) if mask[1] else None)
                dx, dg, db = fn(a("dy"), x, gamma, a("running_mean"), a("running_var"),
                                a("saved_mean"), a("saved_rstd"), problem["mode"] == "train", problem["eps"], mask)
            self._store(t["dx"], dx, "dx", problem)
            self._store(t["dresidual"], dx, "dresidual", problem)
            self._store(t["dgamma"], dg, "dgamma", problem)
            self._store(t["dbeta"], db, "dbeta", problem)
        return self._call(body)

    def _filled(self, value, shape, like: np.ndarray):
        """ones/zeros of `shape` in the dtype of the harness array `like`,
        handed over like every other argument."""
        filled = np.full(shape, value, dtype=like.dtype if like.dtype != np.uint16 else np.float32)
        if self.from_dlpack is None:
            return filled  # NumPy code gets bf16 as float32 values
        return self._export(float_to_bf16_bits(filled) if like.dtype == np.uint16 else filled)

    @staticmethod
    def _nchw(problem):
        s = problem["shape"]
        n, c = (s[0], s[-1]) if problem["layout"] == "nhwc" else (s[0], s[1])
        hw = 1
        for d in (s[1:-1] if problem["layout"] == "nhwc" else s[2:]):
            hw *= d
        return n, c, hw
