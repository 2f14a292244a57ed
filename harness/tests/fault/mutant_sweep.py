#!/usr/bin/python3
"""Fault injection: mutated copies of fixture files through `normcheck run`
and `normcheck verify-fixtures`, in batches mixed with good files.

Each batch is a folder of GOOD untouched fixtures and MUTANTS damaged
copies of other fixtures (each source file at most once per batch, so every
case descriptor is unique). Mutations: bit flips anywhere or in the first
4 KiB (metadata), truncation, and h5py edits of attributes and datasets.

What must hold, per batch (anything else is a finding, printed and counted):
  * `run` and `verify-fixtures` end within the wall limit (no hang past the
    timeout) with exit 0, 1 or 2 (no crash); when a mutant is reported
    damaged the exit is 2, and `run` wrote its four reports, valid UTF-8
    (junit.xml well-formed XML).
  * `run`: every good file's cases are judged exactly as in a clean run
    of the same backend (no result lost, none damaged).
  * A mutant is either reported (a `damaged` record naming the file) or was
    read as an unchanged file: h5py, in an isolated child, sees the same
    attributes and datasets as in the original (the flip hit unused bytes),
    and its cases are judged like the original's. A mutant accepted with
    changed content is a finding, unless only attributes the reader does
    not verify changed (listed separately: provenance).
  * `verify-fixtures` names every mutant `run` reported damaged.
Exit: 0 when nothing was found, 1 with findings, 2 for bad usage.
"""
import argparse
import collections
import json
import os
import random
import select
import shutil
import subprocess
import sys
import time
import xml.dom.minidom

import h5py
import numpy as np

KINDS = ["flip", "flip_meta", "truncate", "attr_edit", "attr_delete", "ds_value", "ds_shape",
         "ds_delete", "ds_dtype"]


def mutate(kind, src, dst, rng):
    """Writes a mutated copy of src to dst; returns a short description."""
    data = bytearray(open(src, "rb").read())
    if kind in ("flip", "flip_meta"):
        span = min(len(data), 4096) if kind == "flip_meta" else len(data)
        flips = []
        for _ in range(rng.randint(1, 4)):
            pos, bit = rng.randrange(span), rng.randrange(8)
            data[pos] ^= 1 << bit
            flips.append(f"{pos}.{bit}")
        open(dst, "wb").write(data)
        return "bits " + ",".join(flips)
    if kind == "truncate":
        size = rng.randrange(len(data))
        open(dst, "wb").write(data[:size])
        return f"to {size} of {len(data)} bytes"
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        groups, datasets = [f], []
        f.visititems(lambda name, o: (datasets if isinstance(o, h5py.Dataset) else groups).append(o))
        if kind in ("attr_edit", "attr_delete"):
            owners = [o for o in groups + datasets if len(o.attrs) > 0]
            owner = rng.choice(owners)
            name = rng.choice(sorted(owner.attrs.keys()))
            if kind == "attr_delete":
                del owner.attrs[name]
                return f"deleted {owner.name}@{name}"
            value = owner.attrs[name]
            if isinstance(value, (bytes, str)):
                text = value.decode() if isinstance(value, bytes) else value
                choice = rng.randrange(3)
                new = [text[:-1] if text else "x", text + ":", "7"][choice]
            elif isinstance(value, np.ndarray):
                new = value.copy()
                if new.size > 0:
                    new.flat[rng.randrange(new.size)] += 1
                else:
                    new = np.array([1])
            else:
                new = [value + 1, -value - 1, "text", 1e300][rng.randrange(4)]
            owner.attrs[name] = new
            return f"{owner.name}@{name}: {value!r} -> {new!r}"
        ds = rng.choice(datasets)
        name, parent, attrs = ds.name, ds.parent, dict(ds.attrs)
        base = name.rsplit("/", 1)[1]
        if kind == "ds_value":
            values = ds[()]
            if values.size == 0:
                return f"{name}: empty, unchanged"
            flat = values.reshape(-1)
            i = rng.randrange(flat.size)
            if values.dtype.kind in "iu":
                flat[i] ^= 1
            else:
                flat[i] += 1.0
            ds[()] = flat.reshape(values.shape)
            return f"{name}: one element changed"
        values = ds[()]
        del parent[base]
        if kind == "ds_delete":
            return f"{name}: deleted"
        if kind == "ds_shape":
            new = np.concatenate([values.reshape(-1), values.reshape(-1)[:1]]) if values.size else np.zeros(1)
        else:  # ds_dtype
            new = values.astype(np.float32 if values.dtype != np.float32 else np.float64)
        parent.create_dataset(base, data=new)
        for k, v in attrs.items():
            parent[base].attrs[k] = v
        return f"{name}: {'shape' if kind == 'ds_shape' else 'dtype'} {values.shape}/{values.dtype} -> {new.shape}/{new.dtype}"


# Run in a child (python3 mutant_sweep.py --dump FILE...): one JSON line per
# file of everything h5py sees, so a crash or hang in HDF5 costs only it.
def dump(paths):
    def attrs(o):
        return {k: repr(np.asarray(v).tolist()) for k, v in o.attrs.items()}
    for path in paths:
        out = {}
        try:
            with h5py.File(path, "r") as f:
                out["/"] = {"attrs": attrs(f)}
                def visit(name, o):
                    entry = {"attrs": attrs(o)}
                    if isinstance(o, h5py.Dataset):
                        v = o[()]
                        entry["data"] = [str(v.dtype), list(v.shape), np.asarray(v).tobytes().hex()]
                    out[name] = entry
                f.visititems(visit)
            print(json.dumps({"ok": out}, sort_keys=True), flush=True)
        except Exception as e:  # h5py's own errors: the file is unreadable
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)


def h5py_views(paths, timeout):
    """{path: (view or None, why)}; one child for many files, restarted
    after the file it died or hung on."""
    result = {}
    todo = list(paths)
    while todo:
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--dump", *todo],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        done = 0
        while done < len(todo):
            ready, _, _ = select.select([p.stdout], [], [], timeout)
            line = p.stdout.readline() if ready else ""
            if not ready:
                p.kill()
                result[todo[done]] = (None, "h5py hung")
            elif not line:
                result[todo[done]] = (None, f"h5py died ({p.wait()})")
            else:
                r = json.loads(line)
                result[todo[done]] = (r.get("ok"), r.get("error", ""))
                done += 1
                continue
            done += 1
            break
        p.kill()
        p.wait()
        todo = todo[done:]
    return result


def differences(a, b):
    """Names of what differs between two h5py views: 'path@attr' or 'path'."""
    out = []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            out.append(key)
            continue
        if a[key].get("data") != b[key].get("data"):
            out.append(key)
        aa, ba = a[key]["attrs"], b[key]["attrs"]
        out += [f"{key}@{k}" for k in sorted(set(aa) | set(ba)) if aa.get(k) != ba.get(k)]
    return out


def run_cli(cmd, wall):
    start = time.monotonic()
    # Bytes, decoded leniently: messages may quote a damaged file's bytes.
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=wall)
        out = p.stdout + p.stderr
        return p.returncode, out.decode(errors="replace"), time.monotonic() - start
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"") + (e.stderr or b"")
        return None, out.decode(errors="replace"), time.monotonic() - start


def statuses_by_case(records):
    by = collections.defaultdict(list)
    for r in records:
        by[r["case"]].append((r["backend"], r["check"], r["status"]))
    return {k: sorted(v) for k, v in by.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dump", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--normcheck")
    ap.add_argument("--fixtures", help="the good fixtures (a folder of .h5 files)")
    ap.add_argument("--work", help="scratch folder (emptied first)")
    ap.add_argument("--mutants", type=int, default=2400)
    ap.add_argument("--per-batch", type=int, default=50)
    ap.add_argument("--good-per-batch", type=int, default=10)
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--timeout", type=float, default=20.0, help="normcheck run --timeout")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep every batch folder, not only those with findings")
    a = ap.parse_args()
    if a.dump:
        dump(a.dump)
        return 0
    if not (a.normcheck and a.fixtures and a.work):
        ap.error("--normcheck, --fixtures and --work are required")
    sources = sorted(os.path.join(a.fixtures, f) for f in os.listdir(a.fixtures) if f.endswith(".h5"))
    if len(sources) < a.per_batch + a.good_per_batch:
        ap.error(f"{len(sources)} fixtures: fewer than --per-batch + --good-per-batch")
    rng = random.Random(a.seed)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    # A mutant of an unchanged file must be judged like the file itself.
    wall = a.timeout * 4 + 240  # a run that outlives this hung past its timeout
    clean_report = os.path.join(a.work, "clean")
    code, out, _ = run_cli([a.normcheck, "run", "--fixtures", a.fixtures, "--backend", a.backend,
                            "--report", clean_report, "--jobs", str(a.jobs)], wall)
    if code not in (0, 1):
        print(f"clean run failed ({code}):\n{out}")
        return 2
    clean = statuses_by_case(json.load(open(os.path.join(clean_report, "results.json")))["records"])
    originals, descriptor_of = {}, {}
    for s, (view, why) in h5py_views(sources, 60).items():
        if view is None:
            print(f"{s}: {why}")
            return 2
        originals[s] = view
        with h5py.File(s, "r") as f:  # a good file: safe to read here
            descriptor_of[s] = [str(f[g].attrs["descriptor"]) for g in f]

    findings = []
    tally = collections.Counter()
    unverified = collections.Counter()
    crashes = hangs = 0
    t0 = time.monotonic()
    made = 0
    batch = 0
    while made < a.mutants:
        batch += 1
        n = min(a.per_batch, a.mutants - made)
        picked = rng.sample(sources, n + a.good_per_batch)
        folder = os.path.join(a.work, f"batch{batch:03d}")
        fixtures = os.path.join(folder, "fixtures")
        os.makedirs(fixtures)
        good = picked[n:]
        for g in good:
            shutil.copyfile(g, os.path.join(fixtures, os.path.basename(g)))
        mutants = {}
        for k, src in enumerate(picked[:n]):
            kind = KINDS[(made + k) % len(KINDS)]
            name = f"mutant{made + k:04d}_{kind}.h5"
            what = mutate(kind, src, os.path.join(fixtures, name), rng)
            mutants[name] = (src, kind, what)
        made += n
        batch_findings = []

        def finding(text):
            batch_findings.append(f"batch {batch}: {text}")
            print("FINDING " + batch_findings[-1], flush=True)

        report = os.path.join(folder, "report")
        code, out, secs = run_cli([a.normcheck, "run", "--fixtures", fixtures, "--backend", a.backend,
                                   "--report", report, "--timeout", str(a.timeout),
                                   "--jobs", str(a.jobs)], wall)
        tally["run_seconds"] += secs
        damaged_names = set()
        if code is None:
            hangs += 1
            finding(f"run did not end within {wall:.0f} s")
        elif code not in (0, 1, 2):
            crashes += 1
            finding(f"run exited {code}: {out[-2000:]}")
        elif not os.path.exists(os.path.join(report, "results.json")):
            finding(f"run exited {code} without results.json: {out[-2000:]}")
        else:
            for name in ("results.json", "summary.md", "junit.xml", "report.html"):
                try:
                    text = open(os.path.join(report, name), "rb").read().decode("utf-8")
                    if name == "junit.xml":
                        xml.dom.minidom.parseString(text)
                except Exception as e:  # missing, not UTF-8, not XML
                    finding(f"report file {name}: {type(e).__name__}: {e}")
            records = json.load(open(os.path.join(report, "results.json")))["records"]
            got = statuses_by_case(records)
            for r in records:
                if r["status"] == "damaged":
                    damaged_names |= {m for m in mutants if m in r["message"] or m in r["case"]}
                    if not any(m in r["message"] or m in r["case"] for m in mutants):
                        finding(f"damaged record naming no mutant: {r['case']}: {r['message']}")
            for g in good:
                for d in descriptor_of[g]:
                    if got.get(d) != clean.get(d):
                        finding(f"good file {os.path.basename(g)} case {d}: {got.get(d)} != clean {clean.get(d)}")
            if damaged_names and code != 2:
                finding(f"run exited {code} with damaged fixtures")
            accepted = sorted(m for m in mutants if m not in damaged_names)
            tally["reported"] += len(mutants) - len(accepted)
            views = h5py_views([os.path.join(fixtures, m) for m in accepted], 60)
            for name in accepted:
                src, kind, what = mutants[name]
                view, why = views[os.path.join(fixtures, name)]
                if view is None:
                    finding(f"{name} ({what}): not reported damaged, but {why}")
                    continue
                diff = differences(originals[src], view)
                judged = all(got.get(d) == clean.get(d) for d in descriptor_of[src])
                if not diff and judged:
                    tally["unchanged, judged as the original"] += 1
                elif diff and all("@" in d and "/" not in d.split("@")[0].strip("/") for d in diff) and judged:
                    # Only attributes of the file or a case changed and the
                    # cases were judged as before: attributes the reader
                    # does not verify (written down, not a finding).
                    tally["accepted with unverified attributes changed"] += 1
                    for d in diff:
                        unverified[d.split("@")[1]] += 1
                else:
                    finding(f"{name} ({what}): accepted with {diff or 'no h5py-visible change'}; "
                            f"judged as the original: {judged}")
        # verify-fixtures: the same folder.
        vcode, vout, vsecs = run_cli([a.normcheck, "verify-fixtures", fixtures, "--jobs", str(a.jobs)], wall)
        tally["verify_seconds"] += vsecs
        if vcode is None:
            hangs += 1
            finding(f"verify-fixtures did not end within {wall:.0f} s")
        elif vcode not in (0, 1, 2):
            crashes += 1
            finding(f"verify-fixtures exited {vcode}: {vout[-600:]}")
        else:
            if damaged_names and vcode != 2:
                finding(f"verify-fixtures exited {vcode} with damaged fixtures")
            for m in sorted(damaged_names):
                if m not in vout:
                    finding(f"verify-fixtures did not name {m}")
        for m in mutants.values():
            tally[f"kind {m[1]}"] += 1
        findings += batch_findings
        if not batch_findings and not a.keep:
            shutil.rmtree(folder)
        print(f"batch {batch}: {n} mutants + {len(good)} good, run exit {code} ({secs:.1f} s), "
              f"verify exit {vcode} ({vsecs:.1f} s), {len(damaged_names)} reported, "
              f"{len(batch_findings)} finding(s)", flush=True)

    print(f"\n{made} mutants in {batch} batches, {time.monotonic() - t0:.0f} s")
    for k in sorted(tally):
        print(f"  {k}: {tally[k]:.0f}" if "seconds" in k else f"  {k}: {tally[k]}")
    if unverified:
        print("  unverified attributes changed: " +
              ", ".join(f"{k} ({v})" for k, v in unverified.most_common()))
    print(f"  harness crashes: {crashes}, hangs: {hangs}, findings: {len(findings)} (each printed as FINDING above)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
