#!/usr/bin/env bash
# Gathers what a GPU session needs into the git-ignored folder .carry/ (run
# HERE, on the build machine; see README.md beside this script):
#   .carry/bin/normcheck, .carry/bin/backends/*.so   the CLI and its plugins
#   .carry/bin/cuda_host_tests, cuda_device_tests    the CUDA unit tests
#   .carry/bin/nc_cuda_bench                         the benchmark
#   .carry/python/normcheck/                         the Python package (for its
#                                                    CUDA DLPack tests), when built
#   .carry/lib/                                      the shared libraries they load
# The GPU machine has no Debian packages, so every library the binaries link
# comes along, except the C runtime (glibc, libstdc++, libgcc_s), which is
# newer there and backward compatible, and libcuda.so, which the driver
# supplies. The whole of .carry/ must stay within the device tool's 64 MiB.
#
#   scripts/gpu/collect_carry.sh [BUILD_DIR] [BACKENDS...]
#     BUILD_DIR  default build (configured and built here if missing)
#     BACKENDS   default: cuda cpu naive (plugins too large to carry, such as
#                torch, are left out)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shift || true
backends=("$@")
[ ${#backends[@]} -eq 0 ] && backends=(cuda cpu naive)
limit_mib=${NC_CARRY_LIMIT_MIB:-60}  # leave room for the fixtures and the tree

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
targets=(normcheck cuda_host_tests cuda_device_tests nc_cuda_bench)
for b in "${backends[@]}"; do targets+=("normcheck_backend_$b"); done
cmake --build "$build" --target "${targets[@]}" -j "$(nproc 2>/dev/null || echo 2)"

rm -rf .carry
mkdir -p .carry/bin/backends .carry/lib
cp "$build/normcheck" .carry/bin/
cp "$build/impls/cuda/tests/cuda_host_tests" "$build/impls/cuda/tests/cuda_device_tests" \
   "$build/impls/cuda/nc_cuda_bench" .carry/bin/
for b in "${backends[@]}"; do cp "$build/backends/libnormcheck_backend_$b.so" .carry/bin/backends/; done
if [ -d "$build/python/normcheck" ]; then
  cmake --build "$build" --target normcheck_python -j "$(nproc 2>/dev/null || echo 2)"
  mkdir -p .carry/python
  cp -r "$build/python/normcheck" .carry/python/
  rm -rf .carry/python/normcheck/__pycache__
fi

# Every library the binaries resolve here, minus the C runtime and the driver.
is_system() {
  case "$(basename "$1")" in
    linux-vdso*|ld-linux*|libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libgcc_s.so*|libstdc++.so*|libcuda.so*) return 0 ;;
  esac
  return 1
}
for f in .carry/bin/* .carry/bin/backends/* .carry/python/normcheck/*.so; do
  [ -f "$f" ] || continue
  ldd "$f" | awk '/=> \// {print $3}' | while read -r lib; do
    is_system "$lib" || cp -Ln "$lib" .carry/lib/ 2>/dev/null || true
  done
done

size_mib=$(( $(du -sk .carry | cut -f1) / 1024 ))
echo "collect_carry: .carry is ${size_mib} MiB (limit ${limit_mib} MiB)"
du -ak .carry | sort -rn | head -8
if [ "$size_mib" -gt "$limit_mib" ]; then
  echo "collect_carry: too large to carry; drop a backend (arguments) or strip binaries" >&2
  exit 1
fi
if [ -d .cache/fixtures/nightly ]; then
  echo "collect_carry: nightly fixtures $(du -sh .cache/fixtures/nightly | cut -f1) in .cache/fixtures/nightly (carry it too, if it fits)"
else
  echo "collect_carry: no .cache/fixtures/nightly here; run_gpu_session.sh generates it there (or: build/normcheck generate --suite nightly --out .cache/fixtures/nightly)"
fi
