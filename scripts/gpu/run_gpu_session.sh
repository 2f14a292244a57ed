#!/usr/bin/env bash
# Runs, ON the GPU machine, from the repository root of the working-tree
# copy, with .carry/ (collect_carry.sh) carried along:
#   1. the CUDA unit tests (cuda_host_tests, cuda_device_tests)
#   2. normcheck run --suite nightly --backend cuda
#   3. nc_cuda_bench and the PyTorch peer on the same shapes, and the table
#      comparing them (reports/perf.md, "## CUDA backend", wants it)
#   4. the Python package's device tests (DLPack exchange of CUDA tensors),
#      when the package was carried and this machine's python3 can load it
# Logs, CSVs and the nightly report are written to .carry/out/; at the end
# they are packed into $OUT/gpu_session.tgz, with bench_summary.md and the
# device-test log beside it ($OUT: the device tool's folder that comes back,
# which takes at most 8 files).
#
# Each step runs under a time limit (the device tool's call is 10 minutes at
# most) and the results so far are packed after every step, so a call cut
# short still brings back what finished.
#
#   bash scripts/gpu/run_gpu_session.sh [tests|suite|bench|python|all] ...   (default all)
#   step "headers" (not in all): packs this machine's Python and pybind11
#   headers into $OUT/py_headers.tgz, for building the package for its Python
set -uo pipefail
cd "$(dirname "$0")/../.."
steps=" ${*:-all} "
want() { [[ "$steps" == *" all "* || "$steps" == *" $1 "* ]]; }
out=.carry/out
rm -rf "$out"
mkdir -p "$out"
export LD_LIBRARY_PATH="$PWD/.carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NC_CUDA_PLUGIN="$PWD/.carry/bin/backends/libnormcheck_backend_cuda.so"
export NORMCHECK_BACKEND_DIR="$PWD/.carry/bin/backends"
export NORMCHECK_ROOT="$PWD"
export PYTHONUNBUFFERED=1
status=0
pack() {
  [ -n "${OUT:-}" ] || return 0
  tar czf "$OUT/gpu_session.tgz" -C "$out" .
  for f in bench_summary.md cuda_device_tests.log python.log; do [ -f "$out/$f" ] && cp "$out/$f" "$OUT/"; done
  return 0
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.txt"
{ uname -a; nproc; python3 --version; command -v g++ c++ gcc cmake nvcc; } >> "$out/gpu.txt" 2>&1

if [[ "$steps" == *" headers "* ]] && [ -n "${OUT:-}" ]; then
  inc=$(python3 -c "import sysconfig; print(sysconfig.get_paths()['include'])")
  pyb=$(python3 -c "import pybind11; print(pybind11.get_include())")
  # Debian/Ubuntu keep pyconfig.h in a multiarch folder beside the headers.
  multiarch=/usr/include/$(python3 -c "import sysconfig; print(sysconfig.get_config_var('MULTIARCH') or '')")/$(basename "$inc")
  [ -d "$multiarch" ] || multiarch=
  tar czf "$OUT/py_headers.tgz" -C / "${inc#/}" "${pyb#/}" ${multiarch:+"${multiarch#/}"} &&
    echo "headers: $inc $pyb $multiarch"
fi

if want tests; then
  echo "== cuda unit tests"
  timeout 60 .carry/bin/cuda_host_tests 2>&1 | tee "$out/cuda_host_tests.log" | tail -5 || status=1
  timeout 180 .carry/bin/cuda_device_tests 2>&1 | tee "$out/cuda_device_tests.log" | tail -30
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { echo "cuda_device_tests exited $rc"; status=1; }
  pack
fi

if want suite; then
  echo "== normcheck run --suite nightly --backend cuda"
  if [ ! -d .cache/fixtures/nightly ]; then
    echo "generating the nightly fixtures here (not carried)"
    timeout 120 .carry/bin/normcheck generate --suite nightly --out .cache/fixtures/nightly --jobs "$(nproc)" \
      > "$out/generate.log" 2>&1 || { echo "generate failed: see generate.log"; status=1; }
  fi
  timeout "${NC_SUITE_TIMEOUT:-300}" .carry/bin/normcheck run --suite nightly --backend cuda \
    --report "$out/nightly" > "$out/nightly_run.log" 2>&1
  rc=$?
  tail -20 "$out/nightly_run.log"
  [ "$rc" -eq 0 ] || { echo "normcheck run exited $rc"; status=1; }
  pack
fi

if want bench; then
  echo "== benchmarks"
  timeout 150 .carry/bin/nc_cuda_bench --csv "$out/cuda_bench.csv" 2>&1 | tee "$out/cuda_bench.log" || status=1
  timeout 150 python3 scripts/gpu/torch_peer_bench.py --csv "$out/torch_bench.csv" 2>&1 | tee "$out/torch_bench.log" || status=1
  python3 scripts/gpu/compare_bench.py "$out/cuda_bench.csv" "$out/torch_bench.csv" \
    | tee "$out/bench_summary.md" || status=1
  pack
fi
if want python; then
  echo "== python: device tests (DLPack)"
  # collect_carry.sh carries the extension for the build machine's Python
  # (3.11); build_python_ext.sh adds one for this machine's. Without it this
  # Python cannot load the package, and that is a skip, not a failure.
  if [ ! -d .carry/python/normcheck ]; then
    echo "skipped: the Python package was not carried" | tee "$out/python.log"
  elif ! PYTHONPATH=.carry/python python3 -c "import normcheck, torch, pytest" > "$out/python.log" 2>&1; then
    echo "skipped: python3 here cannot import normcheck, torch and pytest:"; tail -3 "$out/python.log"
  else
    NORMCHECK_TEST_OUT="$PWD/$out/pytest" NORMCHECK_CLI="$PWD/.carry/bin/normcheck" \
      NORMCHECK_BROKEN_LN_PLUGIN=unused PYTHONPATH=.carry/python \
      timeout 180 python3 harness/python/tests/run_pytest.py -v harness/python/tests/test_torch_cuda.py \
      harness/python/tests/test_dlpack.py 2>&1 | tee "$out/python.log" | tail -25
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "python device tests failed"; status=1; }
  fi
fi
pack
exit $status
