"""Per-case overhead of a Python backend: wall time of normcheck.run per
case minus the time spent inside the backend's own functions, on the quick
suite's layer/group/batch norm cases (the torch example's backend).

    PYTHONPATH=build/python /usr/bin/python3 harness/python/bench/overhead.py [REPEATS]

The overhead is everything the package adds around the kernel calls: the
executor (guarded buffers, input comparisons, every scenario's calls), the
trampolines into Python, array/tensor conversions, rounding the outputs
into the harness's buffers, reading the report stream back and judging.
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import torch_norms  # noqa: E402

import normcheck  # noqa: E402

FUNCTIONS = ["layer_norm", "layer_norm_backward", "group_norm", "group_norm_backward",
             "batch_norm", "batch_norm_backward", "supports"]


class Timed:
    """The example's backend, with the time inside each function summed."""

    def __init__(self):
        self.inner = torch_norms.TorchNorms()
        self.seconds = 0.0
        self.calls = 0
        for name in FUNCTIONS:
            setattr(self, name, self._wrap(getattr(self.inner, name)))

    def _wrap(self, fn):
        def timed(*args):
            start = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1
        return timed


def main(repeats=5):
    import torch
    torch.set_num_threads(1)
    cases = normcheck.cases("quick", filter="re:^(ln|gn|bn):")
    normcheck.run(backend=Timed(), tensors="torch", cases=cases)  # warm-up (imports, first ATen calls)
    rows = []
    for _ in range(repeats):
        b = Timed()
        start = time.perf_counter()
        result = normcheck.run(backend=b, tensors="torch", cases=cases)
        wall = time.perf_counter() - start
        ran = sum(1 for recs in result.by_case().values() if any(r.status != "unsupported" for r in recs))
        rows.append((wall, b.seconds, b.calls, ran))
    rows.sort()
    wall, inside, calls, ran = rows[len(rows) // 2]  # the median run
    n = len(cases)
    print(f"{n} cases ({ran} run, {n - ran} declined), {calls} backend calls, median of {repeats} runs")
    print(f"wall {wall * 1e3:.1f} ms = {wall / n * 1e3:.2f} ms/case; inside the backend {inside * 1e3:.1f} ms")
    print(f"overhead {(wall - inside) / n * 1e3:.2f} ms/case, {(wall - inside) / calls * 1e6:.0f} us/call")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
