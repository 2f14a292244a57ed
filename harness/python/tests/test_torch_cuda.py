"""device="cuda": the callable receives CUDA tensors and its results, copied
back into the harness's buffers, are judged as on the CPU. Needs a CUDA
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
