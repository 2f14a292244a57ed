#!/usr/bin/env bash
# A damaged fixture costs its case, never the run: copies the quick suite,
# damages three files in three ways (a flipped byte that crashes HDF5
# 1.10's attribute reader, a truncation, garbage), runs the cpu backend on
# the copy and checks: exit 2, the four reports written, one `damaged`
# record per damaged file naming it, and every other case judged (cpu
# passes the quick suite, so all of them pass).
# Usage: damaged_fixtures.sh NORMCHECK QUICK_FIXTURES WORKDIR
set -euo pipefail
normcheck=$1 quick=$2 work=$3
rm -rf "$work"; mkdir -p "$work"
cp -r "$quick" "$work/fixtures"
rm -f "$work/fixtures/index.tsv"
# Byte 2204 of this file set to 0x12 sends HDF5 1.10.8 into a crash (or an
# endless loop) in H5Aread: reported in issue 13.
printf '\x12' | dd of="$work/fixtures/5ac0309427fe7b09.h5" bs=1 seek=2204 conv=notrunc status=none
truncate -s 3000 "$work/fixtures/000d7b24a7ab2a1d.h5"
head -c 5000 /dev/urandom > "$work/fixtures/00a111c20cc8cf96.h5"
set +e
timeout 300 "$normcheck" run --fixtures "$work/fixtures" --backend cpu --report "$work/report" --timeout 20 \
  > "$work/stdout" 2> "$work/stderr"
code=$?
set -e
cat "$work/stdout" "$work/stderr"
[ "$code" -eq 2 ] || { echo "FAIL: exit $code, expected 2"; exit 1; }
for f in results.json summary.md junit.xml report.html; do
  [ -f "$work/report/$f" ] || { echo "FAIL: $f not written"; exit 1; }
done
grep -q "could not be read" "$work/stderr" || { echo "FAIL: no damaged-fixture message"; exit 1; }
/usr/bin/python3 - "$work/report/results.json" <<'PY'
import json, sys
records = json.load(open(sys.argv[1]))["records"]
damaged = [r for r in records if r["status"] == "damaged"]
named = {f for f in ("5ac0309427fe7b09.h5", "000d7b24a7ab2a1d.h5", "00a111c20cc8cf96.h5")
         if any(f in r["message"] or f in r["case"] for r in damaged)}
assert len(named) == 3, f"damaged records name {sorted(named)}, expected all three files"
good = [r for r in records if r["status"] != "damaged"]
cases = {r["case"] for r in good}
assert len(cases) == 136, f"{len(cases)} cases judged, expected the 136 undamaged ones"
bad = [r for r in good if r["status"] not in ("pass", "unsupported")]
assert not bad, f"undamaged cases did not pass: {bad[:3]}"
print(f"ok: {len(damaged)} damaged records, {len(cases)} good cases all judged")
PY
