#!/usr/bin/env bash
# Every command treats its input files as untrusted (issue 13): a hostile
# file or descriptor gets one clear message and exit 2 within seconds,
# never a crash, a hang, std::bad_alloc, "internal error" or an echo of the
# whole input. Each check runs under `timeout` (a hang is exit 124) and
# must print at most 2 KB.
# Usage: hostile_inputs.sh NORMCHECK QUICK_FIXTURES WORKDIR
set -uo pipefail
normcheck=$1 quick=$2 work=$3
rm -rf "$work"; mkdir -p "$work"
cd "$work"
failures=0

# expect NAME REGEX ARGS...: exit 2, output matching REGEX, no internal error.
expect() {
  local name=$1 regex=$2; shift 2
  local out code
  out=$(timeout 60 "$@" 2>&1 </dev/null); code=$?
  if [ "$code" -ne 2 ] || ! grep -Eq -- "$regex" <<<"$out" || grep -q "internal error" <<<"$out" ||
     [ "${#out}" -gt 2048 ]; then
    echo "FAIL $name: exit $code (want 2), ${#out} bytes of output (want /$regex/, at most 2048):"
    head -c 1000 <<<"$out"; echo
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

# A results.json nested 100 000 deep (segfault before), a number that
# overflows a double (json.exception, exit 3 before).
/usr/bin/python3 -c "print('[' * 100000 + ']' * 100000)" > deep.json
printf '{"schema_version": 1e999}\n' > overflow.json
expect compare_deep_json "deep.json: .*nested more than 64 deep" "$normcheck" compare deep.json deep.json
expect merge_deep_json "nested more than 64 deep" "$normcheck" merge deep.json --out merged
expect tolerances_deep_json "nested more than 64 deep" "$normcheck" tolerances --from deep.json --out t.toml
expect compare_number_overflow "overflow.json: not a JSON file" "$normcheck" compare overflow.json overflow.json

# Files that are not regular files: /dev/zero was read until bad_alloc, a
# FIFO blocked forever; a folder.
mkfifo fifo
mkdir folder.json
expect tolerances_dev_zero "tolerance file '/dev/zero': is a character device" \
  "$normcheck" run --fixtures "$quick" --backend cpu --tolerances /dev/zero --report r
expect tolerances_fifo "is a FIFO" "$normcheck" run --fixtures "$quick" --backend cpu --tolerances fifo --report r
expect compare_fifo "results file 'fifo': is a FIFO" "$normcheck" compare fifo fifo
expect compare_folder "is a folder" "$normcheck" compare folder.json folder.json
expect generate_suite_fifo "not a regular file" "$normcheck" generate --suite ./fifo --out out
expect generate_manifest_fifo "manifest 'fifo': is a FIFO" \
  "$normcheck" generate --suite quick --out out --manifest fifo --jobs 1

# A report folder whose results.json is a folder: refused before the run
# (run), and before the merge instead of "internal error" after it (merge).
mkdir -p report_dir/results.json
expect run_report_results_folder "--report (.*/)?report_dir: results.json exists and is not a regular file" \
  "$normcheck" run --fixtures "$quick" --backend cpu --report report_dir
printf '{}' > empty.json
expect merge_out_results_folder "--out report_dir: results.json exists and is not a regular file" \
  "$normcheck" merge empty.json --out report_dir

# Tolerance limits that admit anything.
printf 'schema_version = 1\n[default]\nmax_bound_ratio = inf\n' > inf.toml
printf 'schema_version = 1\n[[limit]]\nop = "layer_norm"\nmax_bound_ratio = 1e308\n' > absurd.toml
expect tolerances_inf "inf.toml:3: .*finite and at most 1e\+06" \
  "$normcheck" run --fixtures "$quick" --backend cpu --tolerances inf.toml --report r
expect tolerances_1e308 "absurd.toml:4: .*finite and at most 1e\+06" \
  "$normcheck" run --fixtures "$quick" --backend cpu --tolerances absurd.toml --report r

# Sizes: refused by the case bound before anything is allocated.
echo "ln:f64:f64:100000x100000" > big.txt
echo "ln:f32:2147483648" > two31.txt
expect generate_100000x100000 "case 'ln:f64:f64:100000x100000:.*more than the limit of 4 GiB" \
  "$normcheck" generate --suite big.txt --out out
expect generate_2pow31_elements "case 'ln:f32:f32:2147483648:.*largest: golden/y, 16 GiB" \
  "$normcheck" generate --suite two31.txt --out out
expect generate_env_bound "more than the limit of 1 KiB" \
  env NORMCHECK_MAX_CASE_BYTES=1K "$normcheck" generate --suite quick --out out --jobs 1
expect generate_bad_env_bound "NORMCHECK_MAX_CASE_BYTES '4 gigs'" \
  env "NORMCHECK_MAX_CASE_BYTES=4 gigs" "$normcheck" generate --suite quick --out out --jobs 1
# run: a case above the bound is a damaged record naming file and case.
expect run_case_above_bound "1 damaged" \
  "$normcheck" run --fixtures "$quick" --backend cpu --filter 'ln:f32:f32:2x127:*' --max-case-bytes 1K --report bounded
grep -q "more than the limit of 1 KiB per case" bounded/results.json ||
  { echo "FAIL run_case_above_bound: no damaged record in results.json"; failures=$((failures + 1)); }

expect verify_case_above_bound "case 'ln:f32:f32:2x127:.*more than the limit of 1 KiB per case" \
  "$normcheck" verify-fixtures "$quick/109393b0eb3deb79.h5" --max-case-bytes 1K --jobs 1

# Suites: expansion and nesting bounds, echo cut short.
/usr/bin/python3 -c "
for i in range(1, 201): print(f'ln:f32:{i}x{{1,2,3,4,5,6,7,8,9,10}}{{0,1,2,3,4,5,6,7,8,9}}{{0,1,2,3,4,5,6,7,8,9}}:seed={{1,2,3,4,5,6,7,8,9,10}}')
" > many.txt
/usr/bin/python3 -c "print('{' * 20000 + 'ln:f32:4x8' + '}' * 20000)" > nested.txt
/usr/bin/python3 -c "print('ln:f32:4x8:' + 'x' * (10 << 20))" > longline.txt
expect suite_2M_cases "many.txt' line 11: the suite expands to more than 100000" \
  "$normcheck" generate --suite many.txt --list
expect suite_20000_nested "nested.txt' line 1: .*longer than 1024 characters" \
  "$normcheck" generate --suite nested.txt --list
expect suite_10MB_line "longline.txt' line 1: .*\(10485771 bytes\)" "$normcheck" generate --suite longline.txt --list

# Loose descriptors.
expect describe_pad_on_ln "pad: applies to cbn only" "$normcheck" describe ln:f32:4x8:pad=-1
expect describe_duplicate_key "eps: given twice" "$normcheck" describe ln:f32:4x8:eps=1e-5:eps=7
expect describe_unknown_key "valid keys for ln: axis, affine, res, eps, dist" "$normcheck" describe ln:f32:4x8:epsilon=1e-5
expect describe_unknown_dist "valid: normal, uniform, offset" "$normcheck" describe ln:f32:4x8:dist=gaussian

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all hostile inputs refused with exit 2"
