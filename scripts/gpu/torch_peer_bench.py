#!/usr/bin/env python3
"""The PyTorch peer of nc_cuda_bench: the same ops, shapes and dtypes through
torch.nn.functional (layer_norm, rms_norm, batch_norm, group_norm) on the GPU,
timed the same way (CUDA events around each call, median after warm-up) and
written as the same CSV columns, so compare_bench.py can join the two.

    python3 scripts/gpu/torch_peer_bench.py [--csv FILE] [--reps N] [--quick]

Forward runs under torch.no_grad(); backward is torch.autograd.grad of a
forward kept alive (retain_graph), i.e. the backward kernels alone plus
autograd's own overhead. Bytes are counted as in nc_cuda_bench: forward x + y,
backward x + dy + dx.
"""
import argparse
import csv
import statistics

import torch
import torch.nn.functional as F


def median_us(fn, reps):
    for _ in range(5):
        fn()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    stops = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for a, b in zip(starts, stops):
        a.record()
        fn()
        b.record()
    torch.cuda.synchronize()
    return statistics.median(a.elapsed_time(b) * 1e3 for a, b in zip(starts, stops))


def rows(args, dtype, name):
    hiddens = [4096] if args.quick else [1024, 4096, 8192]
    out = []
    for op in ("ln", "rms"):
        for hidden in hiddens:
            shape = (8192, hidden)
            x = (torch.rand(shape, device="cuda", dtype=torch.float32) * 2 - 1 + (0 if op == "rms" else 3)).to(dtype)
            dy = (torch.rand(shape, device="cuda", dtype=torch.float32) * 2 - 1).to(dtype)
            w = torch.ones(hidden, device="cuda", dtype=dtype, requires_grad=True)
            b = torch.zeros(hidden, device="cuda", dtype=dtype, requires_grad=True)
            if op == "ln":
                fwd = lambda t: F.layer_norm(t, (hidden,), w, b, 1e-5)
                params = (w, b)
            else:
                fwd = lambda t: F.rms_norm(t, (hidden,), w, 1e-5)
                params = (w,)
            with torch.no_grad():
                t_f = median_us(lambda: fwd(x), args.reps)
            xg = x.detach().requires_grad_(True)
            y = fwd(xg)
            t_b = median_us(lambda: torch.autograd.grad(y, (xg, *params), dy, retain_graph=True), args.reps)
            n = x.numel() * x.element_size()
            s = f"{shape[0]}x{hidden}"
            out.append(("torch", op, name, s, "fwd", t_f, 2 * n))
            out.append(("torch", op, name, s, "bwd", t_b, 3 * n))
    return out


def channels(args, dtype, name):
    cases = [("bn", False, 32, 256, 56, 56, 1), ("bn", True, 32, 256, 56, 56, 1),
             ("gn", False, 16, 256, 64, 64, 32), ("gn", True, 16, 256, 64, 64, 32)]
    out = []
    for op, nhwc, n, c, h, w_, g in cases:
        fmt = torch.channels_last if nhwc else torch.contiguous_format
        x = (torch.rand((n, c, h, w_), device="cuda") * 2 - 1).to(dtype).contiguous(memory_format=fmt)
        dy = (torch.rand((n, c, h, w_), device="cuda") * 2 - 1).to(dtype).contiguous(memory_format=fmt)
        weight = torch.ones(c, device="cuda", dtype=dtype, requires_grad=True)
        bias = torch.zeros(c, device="cuda", dtype=dtype, requires_grad=True)
        if op == "bn":
            # cuDNN / native batch norm wants f32 running statistics with
            # 16-bit data, as the cuda backend's stats dtype.
            rm = torch.zeros(c, device="cuda", dtype=torch.float32)
            rv = torch.ones(c, device="cuda", dtype=torch.float32)
            wf, bf = weight.float().detach().requires_grad_(True), bias.float().detach().requires_grad_(True)
            fwd = lambda t: F.batch_norm(t, rm, rv, wf, bf, True, 0.1, 1e-5)
            params = (wf, bf)
        else:
            fwd = lambda t: F.group_norm(t, g, weight, bias, 1e-5)
            params = (weight, bias)
        with torch.no_grad():
            t_f = median_us(lambda: fwd(x), args.reps)
        xg = x.detach().requires_grad_(True)
        y = fwd(xg)
        t_b = median_us(lambda: torch.autograd.grad(y, (xg, *params), dy, retain_graph=True), args.reps)
        nbytes = x.numel() * x.element_size()
        shape = f"{n}x{c}x{h * w_}:{'nhwc' if nhwc else 'nchw'}" + (f":g{g}" if op == "gn" else "")
        out.append(("torch", op, name, shape, "fwd", t_f, 2 * nbytes))
        out.append(("torch", op, name, shape, "bwd", t_b, 3 * nbytes))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"# torch {torch.__version__} on {torch.cuda.get_device_name()}, median of {args.reps}")
    results = []
    for dtype, name in ((torch.bfloat16, "bf16"), (torch.float32, "f32")):
        results += rows(args, dtype, name)
        results += channels(args, dtype, name)
    for impl, op, dt, shape, direction, us, nbytes in results:
        print(f"{op:<4} {dt:<5} {shape:<22} {direction:<4} {us:10.2f} us {nbytes / (us * 1e-6) / 1e9:8.1f} GB/s")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(["impl", "op", "dtype", "shape", "direction", "median_us", "bytes", "gbs", "copy_gbs"])
            for impl, op, dt, shape, direction, us, nbytes in results:
                wr.writerow([impl, op, dt, shape, direction, f"{us:.3f}", nbytes,
                             f"{nbytes / (us * 1e-6) / 1e9:.1f}", ""])


if __name__ == "__main__":
    main()
