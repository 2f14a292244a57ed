"""The package's API on real fixtures and the real reference: cases, golden,
check, run, reports, bf16 helpers, errors at the boundary."""
import json

import numpy as np
import pytest

import normcheck


def test_cases_filter_reads_the_committed_quick_fixtures():
    cases = normcheck.cases("quick", filter="ln:f32:*")
    # fixtures/suites/quick.txt: 28 f32 layer-norm cases (f32 data, f32 params).
    assert len(cases) == 28
    assert all(c.descriptor.startswith("ln:f32:f32:") for c in cases)
    c = next(c for c in cases if c.descriptor == "ln:f32:f32:4x512:eps=1e-5:dist=offset")
    assert c.inputs["x"].dtype == np.float32 and c.inputs["x"].shape == (4, 512)
    assert c.golden["y"].dtype == np.float64 and c.golden["saved_rstd"].shape == (4,)
    assert c.problem["op"] == "layer_norm" and c.problem["norm_axis"] == 1


def test_regex_filter():
    assert {c.descriptor.split(":")[0] for c in normcheck.cases("quick", filter="re:^gn:")} == {"gn"}


def test_golden_in_memory_equals_the_committed_fixture_bit_for_bit():
    committed = normcheck.cases("quick", filter="ln:bf16:f32:8x64:*")
    assert len(committed) == 1
    fresh = normcheck.golden("ln:bf16:f32:8x64")
    assert fresh.descriptor == committed[0].descriptor and fresh.certified
    assert fresh.inputs["x"].dtype == np.uint16  # bf16 as bit patterns
    for name, golden in committed[0].golden.items():
        assert np.array_equal(fresh.golden[name], golden, equal_nan=True), name
    assert np.array_equal(fresh.inputs["x"], committed[0].inputs["x"])


def test_bad_descriptor_is_one_clear_value_error():
    with pytest.raises(ValueError, match="4 groups do not divide 6 channels"):
        normcheck.golden("gn:f32:2x6x4:g=4")


def test_a_golden_too_large_is_refused_before_allocating():
    # 298 GiB of tensors: std::bad_alloc (MemoryError) or swapping before the bound.
    with pytest.raises(ValueError, match=r"more than the limit of 4 GiB per case"):
        normcheck.golden("ln:f64:f64:100000x100000")


def test_check_passes_the_rounded_golden_and_names_the_worst_element():
    c = normcheck.golden("ln:f32:4x768")
    y = c.golden["y"].astype(np.float32)
    (ok,) = normcheck.check(c, {"y": y}, tolerances=None)
    assert ok.check == "y" and ok.status == "pass" and ok.bound_ratio <= 1.0
    bad = y.copy()
    bad[2, 100] *= np.float32(1.001)  # far above a correct f32 kernel's bound
    (r,) = normcheck.check(c, {"y": bad}, tolerances=None)
    assert r.status == "fail" and r.bound_ratio > 1.0
    assert r.worst["tensor"] == "y" and r.worst["index"] == (2, 100)


def test_check_refuses_an_output_of_the_wrong_dtype_or_name():
    c = normcheck.golden("ln:bf16:f32:4x64")
    with pytest.raises(KeyError, match="not a golden output"):
        normcheck.check(c, {"z": np.zeros(4)})
    # f64 values for a bf16 output are rounded once to bf16 (the documented rule)
    (r,) = normcheck.check(c, {"y": c.golden["y"]}, tolerances=None)
    assert r.dtype == "bf16" and r.status == "pass"


def test_output_dtypes_are_the_check_tables_roles():
    # Conv-BN folding writes both folded tensors in the data dtype (the ABI
    # and the executor); statistics in the stats dtype, gradients of gamma
    # in the param dtype.
    cbn = normcheck.golden("cbn:bf16:f32:1x2x5x5:oc=3:k=1x1")
    assert cbn.output_dtype("folded_weight") == "bf16"
    assert cbn.output_dtype("folded_bias") == "bf16"
    ln = normcheck.golden("ln:bf16:f32:4x64")
    assert ln.output_dtype("saved_rstd") == "f32"
    assert ln.output_dtype("dgamma") == "f32"
    assert ln.output_dtype("dx") == "bf16"
    with pytest.raises(KeyError, match="not a golden output"):
        ln.output_dtype("kappa")


def _numpy_layer_norm(x, normalized_shape, gamma, beta, eps):
    x64 = x.astype(np.float64)
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mean = x64.mean(axis=axes, keepdims=True)
    var = ((x64 - mean) ** 2).mean(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    y = (x64 - mean) * rstd
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y, mean, rstd


def test_run_a_numpy_layer_norm_writes_the_four_reports(out_dir):
    report = out_dir / "numpy_ln"
    result = normcheck.run(backend={"layer_norm": _numpy_layer_norm}, filter="ln:f32:f32:4x*",
                           report=report, name="numpy-ln")
    assert result.cases > 0
    by_check = {}
    for r in result.records:
        if "res=1" not in r.case:  # the fused residual is declined (no torch convention for it)
            by_check.setdefault(r.check, set()).add(r.status)
    assert {r.status for r in result.records if "res=1" in r.case} == {"unsupported"}
    # f64 arithmetic rounded once to f32 is within every forward bound ...
    assert by_check["y"] == {"pass"} and by_check["saved_rstd"] == {"pass"}
    # ... and without a backward function the backward is declined, not failed.
    assert by_check["dx"] == {"unsupported"}
    assert result.passed
    data = json.loads((report / "results.json").read_text())
    assert len(data["records"]) == len(result.records)
    assert data["backends"][0]["name"] == "numpy-ln"
    for name in ("summary.md", "junit.xml", "report.html"):
        assert (report / name).stat().st_size > 0


def test_nothing_ran_is_not_a_pass(out_dir):
    # A backend with no function for the cases' op declines every case: 0
    # checks executed is a failed run (as `normcheck run` exits 1), in the
    # result and in the report it writes, unless allow_unsupported says so.
    report = out_dir / "nothing_ran"
    result = normcheck.run(backend={"rms_norm": _numpy_layer_norm}, filter="ln:f32:f32:4x*",
                           report=report, name="declines-all")
    assert result.cases > 0 and result.executed == 0
    assert result.counts == {"unsupported": len(result.records)}
    assert not result.passed
    assert "0 checks executed" in result.summary()
    assert "FAILED" in (report / "summary.md").read_text()
    allowed = normcheck.run(backend={"rms_norm": _numpy_layer_norm}, filter="ln:f32:f32:4x*",
                            report=out_dir / "allowed", name="declines-all", allow_unsupported=True)
    assert allowed.passed and allowed.executed == 0
    assert "FAILED" not in (out_dir / "allowed" / "summary.md").read_text()


def test_a_python_exception_is_an_error_record_naming_it():
    def raises(*_):
        raise RuntimeError("kernel exploded")
    result = normcheck.run(backend={"layer_norm": raises}, filter="ln:f32:f32:8x64:eps=1e-5:dist=normal")
    ys = [r for r in result.records if r.check == "y"]
    assert len(ys) == 1 and ys[0].status == "error" and "RuntimeError: kernel exploded" in ys[0].message
    assert not result.passed


def test_unwritten_and_wrong_sized_outputs_are_caught():
    def short(x, normalized_shape, gamma, beta, eps):
        y, m, r = _numpy_layer_norm(x, normalized_shape, gamma, beta, eps)
        return y, m, r[:1]
    result = normcheck.run(backend={"layer_norm": short}, filter="ln:f32:f32:8x64:eps=1e-5:dist=normal")
    (y,) = [r for r in result.records if r.check == "y"]
    assert y.status == "error" and "saved_rstd" in y.message


def test_bf16_bits_round_once_to_nearest_even():
    assert normcheck.float_to_bf16_bits(np.float32([1.0, -2.0]))[0] == 0x3F80
    assert normcheck.float_to_bf16_bits(np.float32([1.0 + 2.0 ** -8]))[0] == 0x3F80  # tie -> even
    assert normcheck.float_to_bf16_bits(np.float32([1.0 + 3 * 2.0 ** -8]))[0] == 0x3F82  # tie -> even (up)
    # Just above a tie in f64: a plain f64 -> f32 -> bf16 would round twice and land on 0x3F80.
    assert normcheck.float_to_bf16_bits(np.float64([1.0 + 2.0 ** -8 + 2.0 ** -30]))[0] == 0x3F81
    bits = normcheck.float_to_bf16_bits(np.float32([3.14159, -1e-20, np.inf]))
    assert np.array_equal(normcheck.float_to_bf16_bits(normcheck.bf16_bits_to_float32(bits)), bits)


def test_bf16_matches_torch_rounding():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal(10000).astype(np.float32) * 1e3
    mine = normcheck.float_to_bf16_bits(x)
    theirs = normcheck.from_torch(torch.from_numpy(x).to(torch.bfloat16))
    assert theirs.dtype == np.uint16 and np.array_equal(mine, theirs)
    assert torch.equal(normcheck.to_torch(mine), torch.from_numpy(x).to(torch.bfloat16))


from normcheck.testing import assert_close, parametrize  # noqa: E402


@parametrize("quick", filter="ln:f32:f32:8x64:eps=1e-5:dist=normal")
def test_parametrize_and_assert_close_accept_a_correct_layer_norm(case):
    p = case.problem
    y, mean, rstd = _numpy_layer_norm(case.inputs["x"], p["shape"][p["norm_axis"]:], case.inputs["gamma"],
                                      case.inputs["beta"], p["eps"])
    records = assert_close(case, {"y": y, "saved_mean": mean, "saved_rstd": rstd})
    assert [r.check for r in records] == ["y", "saved_mean", "saved_rstd"]


def test_assert_close_names_the_worst_element():
    c = normcheck.golden("ln:f32:8x64")
    y = c.golden["y"].copy()
    y[3, 7] += 1e-3
    with pytest.raises(AssertionError, match=r"y \(f32\): fail.*worst y\[3, 7\]"):
        assert_close(c, {"y": y})


def test_subprocess_mode_turns_a_segfault_and_a_hang_into_records():
    import ctypes
    import time

    def layer_norm(x, normalized_shape, gamma, beta, eps):
        if x.shape == (8, 64):
            ctypes.string_at(0)  # SIGSEGV in native code
        if x.shape == (5, 2):
            time.sleep(30)  # a hang
        return _numpy_layer_norm(x, normalized_shape, gamma, beta, eps)

    result = normcheck.run(backend={"layer_norm": layer_norm}, subprocess=True, timeout=2.0,
                           filter="re:^ln:f32:f32:(8x64|5x2|7x3):eps=1e-5:dist=normal$")
    y = {r.case: r for r in result.records if r.check == "y"}
    assert set(y) == {"ln:f32:f32:8x64:eps=1e-5:dist=normal", "ln:f32:f32:5x2:eps=1e-5:dist=normal",
                      "ln:f32:f32:7x3:eps=1e-5:dist=normal"}
    crashed = y["ln:f32:f32:8x64:eps=1e-5:dist=normal"]
    assert crashed.status == "crash" and "SIGSEGV" in crashed.message and "forward" in crashed.message
    assert y["ln:f32:f32:5x2:eps=1e-5:dist=normal"].status == "timeout"
    assert y["ln:f32:f32:7x3:eps=1e-5:dist=normal"].status == "pass"  # the run went on
