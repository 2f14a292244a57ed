#!/usr/bin/env bash
# Interrupting a run (SIGINT, as Ctrl-C sends) stops its workers and still
# writes the results so far, marked incomplete; the exit code is 128 + 2.
# Usage: interrupt.sh NORMCHECK FIXTURES GOOD_BACKEND HANGING_BACKEND REPORT_DIR
# The good backend finishes the first case; the hanging one then blocks the
# run until the interrupt.
set -u
normcheck=$1 fixtures=$2 good=$3 hanging=$4 report=$5
rm -rf "$report"
"$normcheck" run --fixtures "$fixtures" --backend "$good" --backend "$hanging" --report "$report" --jobs 1 \
  --timeout 300 &
pid=$!
sleep 3
kill -INT "$pid"
wait "$pid"
code=$?
if [ "$code" -ne 130 ]; then echo "expected exit code 130, got $code"; exit 1; fi
grep -q '"incomplete": true' "$report/results.json" || { echo "results.json is not marked incomplete"; exit 1; }
grep -q 'interrupted by SIGINT' "$report/results.json" || { echo "no interruption reason"; exit 1; }
grep -q 'Incomplete run' "$report/report.html" || { echo "report.html does not say incomplete"; exit 1; }
grep -q '"check": ' "$report/results.json" || { echo "the results so far are missing"; exit 1; }
echo "interrupted run: exit 130, report written and marked incomplete"
