#!/usr/bin/env bash
# CTest smoke of one fuzz target: RUNS executions from its seeds, in a
# scratch folder removed afterwards. Fails when libFuzzer finds a crash,
# leak, timeout or broken rule (it exits non-zero and prints the input).
# usage: smoke.sh TARGET SEED_DIR RUNS MAX_LEN
set -euo pipefail
target=$1 seeds=$2 runs=$3 max_len=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/normcheck-fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
export LSAN_OPTIONS=suppressions=$(dirname "$0")/lsan.supp:print_suppressions=0
# -timeout: one input may take this long (a hang otherwise); the workers of
# the fixture reader have their own, shorter one.
"$target" -runs="$runs" -seed=1 -max_len="$max_len" -timeout=30 -rss_limit_mb=4096 \
  -malloc_limit_mb=65536 -artifact_prefix="$work/" -print_final_stats=1 \
  "$work/corpus" "$seeds" 2>&1 | tail -n 40
exit "${PIPESTATUS[0]}"
