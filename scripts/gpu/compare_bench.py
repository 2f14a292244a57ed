#!/usr/bin/env python3
"""Joins nc_cuda_bench's CSV with torch_peer_bench.py's and prints a markdown
table for reports/perf.md, checking the targets of the cuda backend:
layer/rms norm forward >= 85% of the copy bandwidth (hidden >= 1024), backward
>= 70%, and every op at least as fast as PyTorch.

    python3 scripts/gpu/compare_bench.py CUDA_CSV TORCH_CSV
"""
import csv
import sys


def load(path):
    with open(path, newline="") as f:
        return {(r["op"], r["dtype"], r["shape"], r["direction"]): r for r in csv.DictReader(f)}


def main():
    cuda, torch = load(sys.argv[1]), load(sys.argv[2])
    copy = float(next(iter(cuda.values()))["copy_gbs"])
    print(f"copy bandwidth (cudaMemcpy D2D, read + write): {copy:.0f} GB/s\n")
    print("| op | dtype | shape | dir | cuda us | % of copy | torch us | torch / cuda | targets |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
    failed = 0
    for key, r in cuda.items():
        op, dt, shape, direction = key
        us = float(r["median_us"])
        pct = 100.0 * float(r["gbs"]) / copy
        t = torch.get(key)
        tus = float(t["median_us"]) if t else float("nan")
        notes = []
        if op in ("ln", "rms"):
            need = 85.0 if direction == "fwd" else 70.0
            if pct < need:
                notes.append(f"below {need:.0f}% of copy")
        if t and us > tus:
            notes.append("slower than torch")
        failed += bool(notes)
        print(f"| {op} | {dt} | {shape} | {direction} | {us:.1f} | {pct:.0f}% | {tus:.1f} | "
              f"{tus / us:.2f} | {'; '.join(notes) or 'met'} |")
    print(f"\n{failed} of {len(cuda)} cases miss a target")


if __name__ == "__main__":
    main()
