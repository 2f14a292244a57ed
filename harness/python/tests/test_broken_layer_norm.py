"""A deliberately broken layer norm (eps added outside the square root) run
from Python must fail exactly where the CLI fails its C twin
(broken_ln_eps.c): the same cases, the same worst element, the same bound
ratio. Both compute in f64 with sequential sums (np.cumsum accumulates in
order, like the C loop) and round once to f32, so they agree bit for bit."""
import json
import subprocess

import numpy as np

import normcheck

FILTER = "ln:f32:f32:*"  # the f32 layer-norm cases of the quick suite


def broken_layer_norm(x, normalized_shape, gamma, beta, eps):
    cols = int(np.prod(normalized_shape))
    rows = x.astype(np.float64).reshape(-1, cols)
    mean = np.cumsum(rows, axis=1)[:, -1] / cols
    d = rows - mean[:, None]
    var = np.cumsum(d * d, axis=1)[:, -1] / cols
    rstd = 1.0 / (np.sqrt(var) + eps)  # the bug: eps belongs inside the sqrt
    y = d * rstd[:, None]
    if gamma is not None:
        y = y * np.asarray(gamma, dtype=np.float64).reshape(-1)
    if beta is not None:
        y = y + np.asarray(beta, dtype=np.float64).reshape(-1)
    return y.reshape(x.shape), mean, rstd


def test_broken_python_layer_norm_fails_like_its_c_twin(cli, broken_plugin, out_dir):
    py = normcheck.run(backend={"layer_norm": broken_layer_norm}, filter=FILTER, name="broken_ln_eps")
    report = out_dir / "broken_ln_cli"
    proc = subprocess.run([cli, "run", "--suite", "quick", "--filter", FILTER, "--backend", broken_plugin,
                           "--report", str(report), "--jobs", "2"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the CLI says: checks fail
    cli_records = json.loads((report / "results.json").read_text())["records"]

    def forward(records, get):
        return {(get(r, "case"), get(r, "check")): r for r in records
                if get(r, "check") in ("y", "saved_mean", "saved_rstd")}
    mine = forward(py.records, getattr)
    theirs = forward(cli_records, lambda r, k: r[k])
    assert mine.keys() == theirs.keys() and len(mine) == 3 * 28

    failed = [key for key, r in mine.items() if r.status == "fail"]
    # eps outside the sqrt changes rstd by about eps/(2 sqrt(var)): visible
    # at f32's bound for unit-variance rows already, and large for eps=1e-2
    # and the tiny-variance family.
    assert ("ln:f32:f32:4x64:eps=0.01:dist=normal", "y") in failed
    assert ("ln:f32:f32:4x256:eps=1e-5:dist=tiny", "y") in failed
    assert ("ln:f32:f32:4x64:eps=0:dist=normal", "y") not in failed  # eps=0: no bug to see
    for key, r in mine.items():
        t = theirs[key]
        assert r.status == t["status"], key
        if r.status == "fail":
            assert r.worst["tensor"] == t["worst"]["tensor"], key
            assert list(r.worst["index"]) == t["worst"]["index"], key
            assert r.worst["actual"] == t["worst"]["actual"], key
            assert r.bound_ratio == t["bound_ratio"], key
