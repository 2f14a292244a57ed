"""Tensors exchanged with Python backends through DLPack (dlpack_exchange.cpp):
bf16 without bit tricks, channels-last strides kept, any producer of
__dlpack__ accepted, values rounded once, wrong tensors refused with a
message. The CUDA side is in test_torch_cuda.py (needs a device)."""
import numpy as np
import pytest

import normcheck
from normcheck import _normcheck

torch = pytest.importorskip("torch")


class Producer:
    """Any framework's tensor as the protocol sees it: only __dlpack__ and
    __dlpack_device__ (no torch API), so accepting it proves the output path
    is framework-neutral."""

    def __init__(self, tensor):
        self._t = tensor

    def __dlpack__(self, stream=None):
        return self._t.__dlpack__()

    def __dlpack_device__(self):
        return self._t.__dlpack_device__()


def _layer_norm_backend(seen=None, wrap=lambda t: t):
    def layer_norm(x, shape, gamma, beta, eps):
        if seen is not None:
            seen.append(x)
        y, mean, rstd = torch.native_layer_norm(x, shape, gamma, beta, eps)
        return wrap(y), wrap(mean), wrap(rstd)

    return {"layer_norm": layer_norm, "layer_norm_backward": torch.ops.aten.native_layer_norm_backward}


def test_bf16_inputs_arrive_as_torch_bfloat16_with_the_fixture_bits():
    case = normcheck.golden("ln:bf16:bf16:4x64")
    seen = []
    normcheck.run(backend=_layer_norm_backend(seen), tensors="torch", cases=[case])
    x = seen[0]
    assert x.dtype == torch.bfloat16 and tuple(x.shape) == (4, 64)
    assert np.array_equal(x.view(torch.int16).numpy().view(np.uint16), case.inputs["x"])


def test_channels_last_inputs_keep_their_strides_and_values():
    case = normcheck.golden("gn:f32:f32:2x3x4x6:layout=nhwc:g=2")  # stored N,H,W,C
    seen = []

    def group_norm(x, gamma, beta, n, c, hw, groups, eps):
        seen.append(x)
        return torch.native_group_norm(x.contiguous(), gamma, beta, n, c, hw, groups, eps)

    result = normcheck.run(backend={"group_norm": group_norm}, tensors="torch", cases=[case])
    x = seen[0]
    assert tuple(x.shape) == (2, 6, 3, 4)  # logical N,C,H,W
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert np.array_equal(x.permute(0, 2, 3, 1).numpy(), case.inputs["x"])
    assert result.executed > 0 and not result.failures, result.summary()


def test_any_dlpack_producer_is_accepted_as_an_output():
    cases = normcheck.cases("quick", filter="ln:f32:f32:*")[:4]
    plain = normcheck.run(backend=_layer_norm_backend(), tensors="torch", cases=cases)
    wrapped = normcheck.run(backend=_layer_norm_backend(wrap=Producer), tensors="torch", cases=cases)
    assert plain.passed and wrapped.passed, wrapped.summary()
    def key(r):  # bound ratio is NaN for property checks
        return (r.case, r.check, r.status, repr(r.bound_ratio), repr(r.max_ulp_err))
    assert [key(r) for r in wrapped.records] == [key(r) for r in plain.records]


def test_a_from_dlpack_function_selects_the_framework():
    cases = normcheck.cases("quick", filter="ln:f32:f32:*")[:2]
    seen = []
    result = normcheck.run(backend=_layer_norm_backend(seen), tensors=torch.from_dlpack, cases=cases)
    assert result.passed and all(isinstance(x, torch.Tensor) for x in seen)


def test_f64_values_are_rounded_once_to_bf16():
    # 1 + 2^-8 + 2^-30: just above the midpoint of bf16's 1 and 1 + 2^-7, so
    # one rounding gives 1 + 2^-7 (0x3F81); through f32 first (1 + 2^-8 is
    # then an exact tie, to even) it would give 1.0 (0x3F80).
    v = torch.tensor([1 + 2.0**-8 + 2.0**-30, -(1 + 2.0**-8 + 2.0**-30)], dtype=torch.float64)
    assert list(_normcheck.dlpack_to_numpy(v, "bf16")) == [0x3F81, 0xBF81]


def test_strided_sources_are_read_in_logical_order():
    x = torch.arange(60, dtype=torch.float32).reshape(3, 4, 5)
    for view in (x.transpose(0, 2), x[:, ::2, 1:], x.permute(1, 2, 0)):
        got = _normcheck.dlpack_to_numpy(view, "f32")
        assert got.shape == tuple(view.shape) and np.array_equal(got, view.contiguous().numpy())
    # and to f16, value by value (all exact in f16)
    assert np.array_equal(_normcheck.dlpack_to_numpy(x[0].t(), "f16"), x[0].t().numpy().astype(np.float16))


def test_an_integer_tensor_is_an_error_record_naming_its_dtype():
    case = normcheck.golden("ln:f32:f32:2x8")

    def layer_norm(x, shape, gamma, beta, eps):
        y, mean, rstd = torch.native_layer_norm(x, shape, gamma, beta, eps)
        return y.to(torch.int64), mean, rstd

    result = normcheck.run(backend={"layer_norm": layer_norm}, tensors="torch", cases=[case])
    assert not result.passed
    errors = [r for r in result.records if r.status == "error"]
    assert errors and "int64" in errors[0].message, [r.message for r in result.records]


def test_device_names_are_checked():
    with pytest.raises(ValueError, match="'cuda:N'"):
        normcheck.run(backend=_layer_norm_backend(), tensors="torch", device="gpu", cases=[])
    with pytest.raises(ValueError, match="needs tensors="):
        normcheck.run(backend=_layer_norm_backend(), device="cuda", cases=[])


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present: test_torch_cuda.py covers it")
def test_cuda_without_a_device_is_an_error_record_not_a_crash():
    case = normcheck.golden("ln:f32:f32:2x8")
    result = normcheck.run(backend=_layer_norm_backend(), tensors="torch", device="cuda", cases=[case])
    assert not result.passed
    messages = " ".join(r.message for r in result.records if r.status == "error")
    assert "CUDA" in messages or "cuda" in messages, [(r.status, r.message) for r in result.records]
