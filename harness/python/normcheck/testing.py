"""pytest integration: parametrize a test over golden cases, and assert
outputs with the harness's error model (normcheck's assert_close).

    from normcheck.testing import assert_close, parametrize

    @parametrize("quick", filter="ln:f32:*")
    def test_my_layer_norm(case):
        y, mean, rstd = my_layer_norm(case.inputs["x"], ...)
        assert_close(case, {"y": y, "saved_mean": mean, "saved_rstd": rstd})
"""

from __future__ import annotations

from typing import Any, Mapping

from . import _DEFAULT, Record, cases, check


def parametrize(suite: str = "quick", filter: str = "", argname: str = "case"):
    """pytest.mark.parametrize over the cases of a suite or fixture folder,
    one test per case, named by its descriptor."""
    import pytest
    selected = cases(suite, filter)
    if not selected:
        raise ValueError(f"no case of {suite!r} matches filter {filter!r}")
    return pytest.mark.parametrize(argname, selected, ids=[c.descriptor for c in selected])


def assert_close(case, outputs: Mapping[str, Any], tolerances=_DEFAULT, backend: str = "python") -> list[Record]:
    """Judges outputs like normcheck.check and raises AssertionError naming
    every failing output with its bound ratio and worst element."""
    records = check(case, outputs, backend=backend, tolerances=tolerances)
    bad = [r for r in records if r.fails_run]
    if bad:
        lines = [f"{case.descriptor}: {len(bad)} of {len(records)} outputs fail"]
        for r in bad:
            w = r.worst or {}
            lines.append(f"  {r.check} ({r.dtype}): {r.status}, bound ratio {r.bound_ratio:.4g} > {r.tolerance:g}; "
                         f"worst {w.get('tensor')}{list(w.get('index', ()))} actual {w.get('actual')!r} "
                         f"golden {w.get('golden')!r}; {r.message}")
        raise AssertionError("\n".join(lines))
    return records
