"""bf16 as NumPy uint16 bit patterns (NumPy has no bfloat16), and the
bridge to torch tensors (torch.bfloat16 <-> uint16 bits, no rounding)."""

from __future__ import annotations

import numpy as np


def bf16_bits_to_float32(bits) -> np.ndarray:
    """Exact: every bf16 value is an f32 value with 16 zero low bits."""
    b = np.asarray(bits, dtype=np.uint16)
    return (b.astype(np.uint32) << 16).view(np.float32)


def _f32_to_bf16_bits(f: np.ndarray) -> np.ndarray:
    u = f.view(np.uint32)
    rounded = (u + (((u >> 16) & 1) + 0x7FFF)) >> 16  # round to nearest even
    nan = np.isnan(f)
    quiet = ((u >> 16) | 0x40).astype(np.uint32)  # keep the sign and payload, quiet it
    return np.where(nan, quiet, rounded).astype(np.uint16)


def float_to_bf16_bits(values) -> np.ndarray:
    """Rounds once to bf16 (nearest even) and returns the bit patterns.

    f64 input is first rounded to f32 *to odd* (truncate, then set the last
    bit when inexact): with 24 >= 8 + 2 bits that makes the second rounding
    to bf16 exact-once, where plain f64 -> f32 -> bf16 could round twice."""
    a = np.asarray(values)
    if a.dtype == np.float64:
        with np.errstate(over="ignore", invalid="ignore"):
            f = a.astype(np.float32)
            too_far = np.isfinite(a) & (np.abs(f.astype(np.float64)) > np.abs(a))
            f = np.where(too_far, np.nextafter(f, np.float32(0)), f).astype(np.float32)
            inexact = np.isfinite(a) & (f.astype(np.float64) != a)
            f = np.where(inexact, (f.view(np.uint32) | 1).view(np.float32), f).astype(np.float32)
        return _f32_to_bf16_bits(np.ascontiguousarray(f))
    return _f32_to_bf16_bits(np.ascontiguousarray(a, dtype=np.float32))


def to_torch(array, dtype: str | None = None):
    """A NumPy array as a torch tensor; uint16 arrays (or dtype="bf16") become
    torch.bfloat16 with the same bits."""
    import torch
    a = np.ascontiguousarray(array)
    if a.dtype == np.uint16 or dtype == "bf16":
        return torch.from_numpy(a.view(np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(a.copy())


def from_torch(tensor) -> np.ndarray:
    """A torch tensor (any device) as NumPy; torch.bfloat16 becomes uint16 bits."""
    import torch
    t = tensor.detach().to("cpu").contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()
