#!/usr/bin/env python3
"""Joins nc_cuda_bench's CSV with torch_peer_bench.py's and prints a markdown
table for reports/perf.md, checking the targets of the cuda backend (issue
18): layer/rms norm forward >= 90 % of the copy bandwidth and >= 1.5x
PyTorch's eager F.layer_norm / F.rms_norm, backward >= 70 % of the copy
bandwidth; the channel norms at least as fast as PyTorch.

    python3 scripts/gpu/compare_bench.py CUDA_CSV TORCH_CSV [BEFORE_CSV]

BEFORE_CSV: an earlier nc_cuda_bench CSV (another build, another run) whose
times are shown beside, with the ratio before / now.
"""
import csv
import sys

# One place for the targets: (minimum % of copy, minimum torch / cuda).
ROW_FORWARD = (90.0, 1.5)
ROW_BACKWARD = (70.0, None)
CHANNEL = (None, 1.0)


def load(path):
    with open(path, newline="") as f:
        return {(r["op"], r["dtype"], r["shape"], r["direction"]): r for r in csv.DictReader(f)}


def targets(op, direction):
    if op in ("ln", "rms"):
        return ROW_FORWARD if direction == "fwd" else ROW_BACKWARD
    return CHANNEL


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    cuda, torch = load(sys.argv[1]), load(sys.argv[2])
    before = load(sys.argv[3]) if len(sys.argv) == 4 else None
    copy = float(next(iter(cuda.values()))["copy_gbs"])
    print(f"copy bandwidth (cudaMemcpy D2D, read + write): {copy:.0f} GB/s\n")
    extra_head = " before us | before / now |" if before else ""
    extra_rule = " ---: | ---: |" if before else ""
    print(f"| op | dtype | shape | dir |{extra_head} cuda us | % of copy | torch us | torch / cuda | targets |")
    print(f"| --- | --- | --- | --- |{extra_rule} ---: | ---: | ---: | ---: | --- |")
    failed = 0
    for key, r in cuda.items():
        op, dt, shape, direction = key
        us = float(r["median_us"])
        pct = 100.0 * float(r["gbs"]) / copy
        t = torch.get(key)
        tus = float(t["median_us"]) if t else float("nan")
        need_pct, need_speedup = targets(op, direction)
        notes = []
        if need_pct is not None and pct < need_pct:
            notes.append(f"below {need_pct:.0f}% of copy")
        if need_speedup is not None and t and tus / us < need_speedup:
            notes.append(f"below {need_speedup:g}x torch")
        failed += bool(notes)
        extra = ""
        if before:
            b = before.get(key)
            bus = float(b["median_us"]) if b else float("nan")
            extra = f" {bus:.1f} | {bus / us:.2f} |"
        print(f"| {op} | {dt} | {shape} | {direction} |{extra} {us:.1f} | {pct:.0f}% | {tus:.1f} | "
              f"{tus / us:.2f} | {'; '.join(notes) or 'met'} |")
    print(f"\n{failed} of {len(cuda)} cases miss a target")


if __name__ == "__main__":
    main()
