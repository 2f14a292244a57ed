"""normcheck from Python: certified golden cases, the harness's error model,
and Python callables run as backends through the real executor and judge.

    import normcheck, torch
    result = normcheck.run(backend={"layer_norm": torch.native_layer_norm}, tensors="torch",
                           suite="quick", filter="ln:*", report="/tmp/ln")
    assert result.passed, result.summary()

Everything numerical happens in the C++ harness (module ``_normcheck``):
fixtures are read by its HDF5 reader, goldens come from the certified
reference, each case runs through the same executor as a plugin (guarded
buffers, reruns, sub-batches, eval-mode runs) and is judged by the same judge
with the same tolerance file, and reports are written by the same writers.
See harness/python/README.md.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

try:
    import numpy as np
except ModuleNotFoundError as missing:  # pragma: no cover - depends on the interpreter
    raise ImportError(
        f"normcheck needs NumPy, which {sys.executable} does not have. The package is built for "
        "Debian's /usr/bin/python3 (python3-numpy); `python3` on PATH may be another interpreter "
        "(a pyenv shim). Run it with /usr/bin/python3."
    ) from missing

from . import _normcheck
from ._backend import Dispatcher, Unsupported, _dlpack_source
from ._bf16 import bf16_bits_to_float32, float_to_bf16_bits, from_torch, to_torch
from ._paths import DATA_ROOT
from ._normcheck import Case, InputError, Record

__all__ = [
    "Case", "Record", "InputError", "Unsupported", "RunResult",
    "suite", "cases", "golden", "check", "run", "default_tolerances", "suite_dir",
    "bf16_bits_to_float32", "float_to_bf16_bits", "to_torch", "from_torch",
]

_DEFAULT = object()


def suite_dir(name: str) -> Path:
    """The fixture folder of a named suite (quick: committed; the others:
    generated into .cache/fixtures/NAME). ValueError for an unknown suite or
    a missing folder, with the command that generates it."""
    return Path(_normcheck.suite_dir(name, DATA_ROOT))


def default_tolerances() -> Path | None:
    """reports/tolerances/default.toml of this normcheck, when present."""
    f = Path(_normcheck.default_tolerance_file(DATA_ROOT))
    return f if f.is_file() else None


def _resolve(source: str | Path) -> Path:
    p = Path(source)
    if isinstance(source, str) and "/" not in source and not p.exists():
        return suite_dir(source)
    if not p.is_dir():
        raise ValueError(f"'{source}' is neither a suite name nor a fixture folder")
    return p


def cases(source: str | Path = "quick", filter: str = "") -> list[Case]:
    """The cases of a suite name or fixture folder, optionally filtered by a glob
    over the normalized descriptor (or ``re:REGEX``), read and verified by the
    harness's fixture reader."""
    return _normcheck.load_cases(_resolve(source), filter)


def suite(name: str = "quick", filter: str = "") -> list[Case]:
    return cases(name, filter)


def golden(descriptor: str) -> Case:
    """The certified golden case of a descriptor, computed in memory by the
    reference (e.g. ``"ln:bf16:f32:4x768:dist=offset"``)."""
    return _normcheck.golden(descriptor)


def _tolerance_arg(tolerances):
    if tolerances is _DEFAULT:
        return default_tolerances()
    return None if tolerances is None else Path(tolerances)


def _as_numpy(value, case: Case, name: str) -> np.ndarray:
    want = case.output_dtype(name)
    if hasattr(value, "__dlpack__") and not isinstance(value, np.ndarray):
        return _normcheck.dlpack_to_numpy(_dlpack_source(value), want)  # any framework and device, rounded once
    a = np.ascontiguousarray(value)
    if want == "bf16" and a.dtype != np.uint16:
        a = float_to_bf16_bits(a)
    elif want != "bf16":
        a = a.astype({"f64": np.float64, "f32": np.float32, "f16": np.float16}[want], copy=False)
    return a


def check(case: Case, outputs: Mapping[str, Any], backend: str = "python",
          tolerances=_DEFAULT) -> list[Record]:
    """Judge outputs of the main forward/backward of ``case`` (``{"y": ...,
    "saved_mean": ..., "dx": ...}``, NumPy arrays or torch tensors, rounded
    once to the dtype the case prescribes) with the harness's error model and
    tolerance file. Returns one Record per given output."""
    arrays = {name: _as_numpy(v, case, name) for name, v in outputs.items()}
    return _normcheck.check(case, arrays, backend, _tolerance_arg(tolerances))


@dataclass
class RunResult:
    records: list[Record]
    cases: int
    report: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    allow_unsupported: bool = False

    @property
    def failures(self) -> list[Record]:
        return [r for r in self.records if r.fails_run]

    @property
    def executed(self) -> int:
        """Gating checks the backend executed (not declined as unsupported)."""
        return _normcheck.executed_checks(self.records)

    @property
    def nothing_ran(self) -> bool:
        """Cases were given and the backend executed none of their checks:
        not a pass (as with ``normcheck run``) unless ``allow_unsupported``."""
        return self.cases > 0 and self.executed == 0 and not self.allow_unsupported

    @property
    def passed(self) -> bool:
        return not self.failures and not self.nothing_ran

    def by_case(self) -> dict[str, list[Record]]:
        out: dict[str, list[Record]] = {}
        for r in self.records:
            out.setdefault(r.case, []).append(r)
        return out

    def summary(self) -> str:
        head = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items()))
        lines = [f"{self.cases} cases, {self.executed} checks executed: {head}"]
        if self.nothing_ran:
            lines.append("  FAILED: 0 checks executed (every case unsupported); "
                         "pass allow_unsupported=True if that is expected")
        for r in self.failures[:20]:
            lines.append(f"  {r.case} {r.check}: {r.status} bound_ratio={r.bound_ratio:.3g} {r.message}")
        return "\n".join(lines)


def run(backend: Any, suite: str | Path = "quick", filter: str = "", report: str | Path | None = None,
        tolerances=_DEFAULT, name: str = "python", tensors: str = "numpy", device: str | None = None,
        cases: Iterable[Case] | None = None, progress: Callable[[str, list[Record]], None] | None = None,
        subprocess: bool = False, timeout: float = 60.0,
        allow_unsupported: bool = False) -> RunResult:
    """Run a Python backend on a suite (or on given ``cases``) and judge it
    like ``normcheck run`` does; with ``report`` write the same four files.

    ``backend``: a mapping or an object whose attributes name the ops it
    implements, with torch's ``native_*`` calling conventions (README):
    ``layer_norm``, ``layer_norm_backward``, ``group_norm``,
    ``group_norm_backward``, ``batch_norm``, ``batch_norm_backward``,
    ``rms_norm``, ``rms_norm_backward``; optionally ``supports(problem)``
    returning None or a reason to decline. ``tensors``: "numpy", "torch"
    (bf16 as torch.bfloat16) or any framework's ``from_dlpack``: framework
    tensors go both ways through DLPack; ``device``: "cuda" or "cuda:N" to
    hand the inputs over as device tensors (results may be on the device).

    A Python exception in the backend becomes an ``error`` record for that
    case. By default the calls run in this process, where a crash of native
    code they call takes the interpreter down; ``subprocess=True`` runs each
    case in a forked child (a crash or a run past ``timeout`` seconds is a
    ``crash``/``timeout`` record, and state the backend changes does not
    carry over between cases). README: what is and is not isolated.

    Nothing ran is not a pass: when the backend declines every case,
    ``passed`` is False unless ``allow_unsupported=True``."""
    started = _normcheck.utc_now()
    if cases is None:
        source = _resolve(suite)
        selected = _normcheck.load_cases(source, filter)
        fixtures = str(source)
    else:
        selected = list(cases)
        fixtures = "(cases given in Python)"
    tol = _tolerance_arg(tolerances)
    dispatcher = Dispatcher(backend, tensors=tensors, device=device)
    records = _normcheck.run_python_backend(selected, dispatcher, name, tol, progress,
                                            subprocess=subprocess, timeout=timeout)
    counts: dict[str, int] = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    out = RunResult(records=records, cases=len(selected), counts=counts,
                    allow_unsupported=allow_unsupported)
    if report is not None:
        out.report = Path(report)
        command = shlex.join([sys.executable, *sys.argv])
        _normcheck.write_reports(records, out.report, name, fixtures, tol, command, len(selected), started,
                                 allow_unsupported=allow_unsupported)
    return out
