"""device="cuda": the callable receives CUDA tensors (exported by the harness
through DLPack) and its results, read back through DLPack, are judged as on
the CPU. Needs a CUDA
device visible to torch; CTest registers it as skipped (with the reason)
where there is none, and this file skips as well when run by hand."""
import pytest

torch = pytest.importorskip("torch")
import normcheck  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible to torch")


def test_torch_layer_norm_on_the_device_passes_as_on_the_host(out_dir):
    devices = set()

    def layer_norm(x, shape, gamma, beta, eps):
        devices.update(t.device.type for t in (x, gamma, beta) if t is not None)
        return torch.native_layer_norm(x, shape, gamma, beta, eps)

    backend = {
        "layer_norm": layer_norm,
        "layer_norm_backward": torch.ops.aten.native_layer_norm_backward,
        "supports": lambda p: None if p["dtype"] == p["param_dtype"] == "f32" else "f32 only",
    }
    result = normcheck.run(backend=backend, tensors="torch", device="cuda", suite="quick",
                           filter="ln:f32:*", report=str(out_dir / "torch_cuda"))
    assert devices == {"cuda"}
    assert result.passed, result.summary()
    assert any(r.status == "pass" for r in result.records)


def test_device_tensors_round_trip_through_dlpack():
    from normcheck import _normcheck
    import numpy as np

    host = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    view = np.moveaxis(host, -1, 1)  # strided, as channels-last inputs are
    t = torch.from_dlpack(_normcheck.DLPackExport(view, 2, 0))
    assert t.device.type == "cuda" and t.stride() == (12, 1, 4)
    assert torch.equal(t.cpu(), torch.from_numpy(np.ascontiguousarray(view)))
    # Device results are read back, any strides, rounded once to bf16.
    d = torch.randn(5, 7, device="cuda", dtype=torch.float64).t()
    assert np.array_equal(_normcheck.dlpack_to_numpy(d, "f64"), d.cpu().numpy())
    assert np.array_equal(_normcheck.dlpack_to_numpy(d, "bf16"),
                          normcheck.float_to_bf16_bits(d.cpu().numpy()))


def test_bf16_layer_norm_on_the_device(out_dir):
    backend = {
        "layer_norm": torch.native_layer_norm,
        "layer_norm_backward": torch.ops.aten.native_layer_norm_backward,
        "supports": lambda p: None if p["dtype"] == p["param_dtype"] == "bf16" else "bf16 only",
    }
    result = normcheck.run(backend=backend, tensors="torch", device="cuda", suite="quick",
                           filter="ln:bf16:bf16:*", report=str(out_dir / "torch_cuda_bf16"))
    # Verdicts are torch's (its CUDA bf16 kernels may have known defects);
    # what this checks is that every case executed through the exchange.
    assert result.executed > 0
    assert not [r for r in result.records if r.status in ("error", "crash")], result.summary()
