#!/usr/bin/env bash
# The reproducer printed under a failure is a command a user can paste: runs
# a failing backend, takes the first "repro:" line of its console output,
# runs that line in a shell from another directory, and expects it to rerun
# exactly the one failing case (exit 1, "1 case x 1 backend").
#   repro.sh NORMCHECK RUN-ARGS... -- WORKDIR
set -euo pipefail
normcheck=$1
shift
args=()
while [ "$1" != "--" ]; do args+=("$1"); shift; done
work=$2
rm -rf "$work"
mkdir -p "$work"
set +e
"$normcheck" "${args[@]}" --report "$work/first" > "$work/first.out" 2>&1
code=$?
set -e
cat "$work/first.out"
[ "$code" -eq 1 ] || { echo "FAIL: the first run exited $code, expected 1"; exit 1; }
line=$(sed -n 's/^ *repro: //p' "$work/first.out" | head -1)
[ -n "$line" ] || { echo "FAIL: no repro: line"; exit 1; }
echo "pasting: $line"
cd "$work"  # its default report folder lands here, not in the source tree
set +e
bash -c "$line" > "$work/repro.out" 2>&1
code=$?
set -e
cat "$work/repro.out"
[ "$code" -eq 1 ] || { echo "FAIL: the reproducer exited $code, expected 1"; exit 1; }
grep -q "normcheck: 1 case x 1 backend:" "$work/repro.out" || { echo "FAIL: the reproducer did not run exactly one case"; exit 1; }
[ -f "$work/reports/latest/report.html" ] || { echo "FAIL: default report folder not under the current directory"; exit 1; }
echo "OK"
