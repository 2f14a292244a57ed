"""scripts/bench-ab end to end on tiny shapes: the comparison table and the
machine-state table it prints after it, and its bad-argument exit 2.

Usage: bench_ab_test.py BENCH_AB BUILD_DIR

Times are not asserted (they are noise at --scale 256); what is asserted is
the structure a reader of reports/perf.md relies on: one row per op and
direction with a time for both builds and their ratio, and one state row per
round plus one after the last, each with the probe's numbers, or, on a CPU
without AVX-512F, the reason there are none.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from importlib.machinery import SourceFileLoader


def main():
    bench_ab, build = sys.argv[1], sys.argv[2]
    base = [sys.executable, bench_ab, "--build", build]

    # Two rounds of the same backend twice; the probe on a tiny tensor.
    run = subprocess.run(
        base + ["--rounds", "2", "--label", "a", "--label", "b",
                "--probe-args", "--rows 64 --cols 256 --reps 1", "cpu", "cpu", "--",
                "--ops", "ln", "--dtypes", "f32", "--reps", "1", "--scale", "256"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    rows = [l for l in out.splitlines() if l.startswith("| layer_norm |")]
    # fwd and bwd of both ln shapes; cells: op dir dtype shape, a ms, b ms,
    # a %, b %, b / a, b / a per round (lowest-highest).
    assert len(rows) == 4, out
    for row in rows:
        cells = [x.strip() for x in row.strip("|").split("|")]
        assert len(cells) == 10, row
        a_ms, b_ms, ratio = float(cells[4]), float(cells[5]), float(cells[8])
        assert a_ms > 0 and b_ms > 0, row
        # The printed ratio is b / a of the printed times, to their rounding:
        # each time is within h = 0.0005 ms of its value, the ratio within
        # 0.005 of b / a, so b / a lies in [(b - h) / (a + h), (b + h) / (a - h)].
        # (The former bound, 0.01 + 0.001 / a, left out the factor 1 + b / a
        # and failed on a loaded machine for a = 0.016, b = 0.086, 5.48.)
        h = 0.0005
        assert a_ms > h, row
        assert (b_ms - h) / (a_ms + h) - 0.005 <= ratio <= (b_ms + h) / (a_ms - h) + 0.005, row
        # Two rounds: each round's ratio; the ratio of the medians (means of
        # two values here) lies between them, up to the rounding of all three.
        low, high = (float(x) for x in cells[9].split("-"))
        assert 0 < low <= high, row
        assert low - 0.02 <= ratio <= high + 0.02, row

    states = re.findall(r"^\| (1|2|after the last) \|(.*)$", out, re.M)
    assert [s[0] for s in states] == ["1", "2", "after the last"], out
    for when, rest in states:
        cells = [x.strip() for x in rest.strip().strip("|").split("|")]
        if cells[0].startswith("not probed"):
            assert "AVX-512F" in cells[0], rest  # the only reason here: the probe is built
            continue
        memcpy, single, state = float(cells[0]), float(cells[1]), cells[3]
        # memcpy's GB/s can print as 0.0 for the tiny probe on a loaded machine.
        assert memcpy >= 0 and single > 0, rest
        assert state == ("shared?" if single >= 100 else "quiet"), rest
        # Rounds carry their bench processes' copy bandwidth, the final row none.
        assert (cells[2] == "-") == (when == "after the last"), rest

    # --no-probe says so in every state row.
    run = subprocess.run(
        base + ["--no-probe", "--rounds", "1", "cpu", "--", "--ops", "ln", "--dtypes", "f32",
                "--reps", "1", "--scale", "256"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("not probed (--no-probe)") == 2, run.stdout

    # --fastest: the fastest call of all rounds, said in the footer; the bench's
    # JSON carries it next to the median, never above it.
    run = subprocess.run(
        base + ["--no-probe", "--fastest", "--rounds", "1", "cpu", "--", "--ops", "ln",
                "--dtypes", "f32", "--reps", "3", "--scale", "256"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert run.returncode == 0, run.stderr
    assert "cells are the fastest call of all rounds" in run.stdout, run.stdout
    assert len([l for l in run.stdout.splitlines() if l.startswith("| layer_norm |")]) == 4
    with tempfile.TemporaryDirectory() as work:
        out_json = os.path.join(work, "bench.json")
        run = subprocess.run(
            [os.path.join(build, "normcheck"), "bench", "--backend", "cpu", "--ops", "ln",
             "--dtypes", "f32", "--reps", "3", "--scale", "256", "--json", out_json],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert run.returncode == 0, run.stderr
        with open(out_json) as f:
            results = json.load(f)["results"]
    assert len(results) == 4, results
    for r in results:
        assert 0 < r["min_seconds"] <= r["median_seconds"], r

    # Bad arguments: one message, exit 2.
    for args, message in [
        (["--rounds", "3", "cpu", "cpu"], "not a multiple of the 2 backends"),
        (["--probe-args"], "--probe-args needs"),
        (["--probe-args", "--reps '5", "cpu"], "No closing quotation"),
        (["--frob", "cpu"], "unknown option '--frob'"),
        (["--build", "/nonexistent", "cpu"], "/nonexistent/normcheck is not built"),
    ]:
        run = subprocess.run([sys.executable, bench_ab] + args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        assert run.returncode == 2, (args, run.returncode, run.stderr)
        assert message in run.stderr and run.stderr.count("\n") == 1, (args, run.stderr)
    # The state mark follows the percentage as printed, at the edge too:
    # 99.7 prints as 100, which the legend calls shared (CI once printed
    # "100 ... quiet" for a tiny probe).
    state_row = SourceFileLoader("bench_ab", bench_ab).load_module().state_row
    assert state_row("1", (30.0, 99.7), [40.0]) == "| 1 | 30.0 | 100 | 40.0 | shared? |"
    assert state_row("1", (30.0, 99.4), [40.0]) == "| 1 | 30.0 | 99 | 40.0 | quiet |"
    print("bench-ab: table, machine state and bad arguments as expected")


if __name__ == "__main__":
    main()
