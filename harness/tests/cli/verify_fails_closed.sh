#!/usr/bin/env bash
# verify-fixtures fails closed (issue 13, points 1 and 2): a file that
# crashes HDF5 costs that file (exit 2, not a signal); an empty manifest or
# one listing no case of the suite is bad input; --regenerate counts an
# ONNX-sourced case as "not regenerable" (exit 1, never OK); a wrong root
# `format` or provenance that disagrees with the schema is damage; forged
# but self-consistent provenance fails against the manifest.
# Usage: verify_fails_closed.sh NORMCHECK QUICK_FIXTURES SUITES_DIR WORKDIR
set -euo pipefail
normcheck=$1 quick=$2 suites=$3 work=$4
rm -rf "$work"; mkdir -p "$work"
good=$quick/5ac0309427fe7b09.h5
failures=0
expect() {  # expect CODE PATTERN ARGS...: exit code and a line of output
  local want=$1 pattern=$2; shift 2
  set +e
  timeout 120 "$normcheck" verify-fixtures "$@" > "$work/out" 2>&1
  local code=$?
  set -e
  if [ "$code" -ne "$want" ] || ! grep -q -- "$pattern" "$work/out"; then
    echo "FAIL: verify-fixtures $* -> exit $code (want $want, output matching '$pattern'):"
    cat "$work/out"; failures=$((failures + 1))
  else
    echo "ok: exit $code: $*"
  fi
}
edit() {  # edit FILE PYTHON: h5py edit of the case group `g` / root `f`
  /usr/bin/python3 - "$1" "$2" <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    g = f[next(iter(f.keys()))]
    exec(sys.argv[2])
PY
}

# A byte that crashes HDF5 1.10.8 in H5Aread (exit 139 before the fix).
cp "$good" "$work/crash.h5"
printf '\x12' | dd of="$work/crash.h5" bs=1 seek=2204 conv=notrunc status=none
expect 2 "crash.h5: reading it terminated by signal" "$work/crash.h5"
# The damaged file costs itself only: a good file beside it still verifies.
mkdir "$work/mixed"; cp "$work/crash.h5" "$good" "$work/mixed/"
expect 2 "1 damaged, 0 mismatched" "$work/mixed"

printf '# nothing here\n\n' > "$work/empty.manifest"
expect 2 "lists no case" "$good" --manifest "$work/empty.manifest"
# One nightly case that quick does not hold.
awk 'NR == FNR { quick[$2] = 1; next } !/^#/ && !($2 in quick) { print; exit }' \
  "$suites/quick.manifest" "$suites/nightly.manifest" > "$work/other.manifest"
expect 2 "lists no case of suite 'quick'" "$quick" --suite quick --suites-dir "$suites" \
  --manifest "$work/other.manifest"

# A self-consistent ONNX provenance on a reference case: readable, but not
# regenerable, and against the manifest it is forged.
cp "$good" "$work/onnx.h5"
edit "$work/onnx.h5" 'g.attrs["source"] = "onnx"; g.attrs["origin"] = "ONNX backend node test x/y"; g.attrs["certified"] = 0; g.attrs["reference_precision_bits"] = 0; g.attrs["escalated_elements"] = 0'
expect 1 "1 not regenerable; NOT VERIFIED" "$work/onnx.h5" --regenerate
expect 1 "in the manifest (reference cases) but claims source 'onnx'" "$work/onnx.h5" \
  --manifest "$suites/quick.manifest"

cp "$good" "$work/format.h5"
edit "$work/format.h5" 'f.attrs["format"] = "something else"'
expect 2 "format attribute is 'something else'" "$work/format.h5"
cp "$good" "$work/origin.h5"
edit "$work/origin.h5" 'g.attrs["origin"] = "made up"'
expect 2 "origin 'made up' is not a reference method" "$work/origin.h5"
cp "$good" "$work/certified.h5"
edit "$work/certified.h5" 'g.attrs["certified"] = 7'
expect 2 "certified is 7, not 0 or 1" "$work/certified.h5"
cp "$good" "$work/half_onnx.h5"
edit "$work/half_onnx.h5" 'g.attrs["source"] = "onnx"'
expect 2 "an ONNX-imported case claims reference certification" "$work/half_onnx.h5"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all verify-fixtures fail-closed checks passed"
