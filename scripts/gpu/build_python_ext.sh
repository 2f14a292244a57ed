#!/usr/bin/env bash
# Builds the normcheck Python extension for ANOTHER Python (the GPU machine's:
# 3.12 there, Debian's 3.11 here) into .carry/python/normcheck, beside the
# one for this machine, so that the package's CUDA DLPack tests can run
# there. Run HERE after collect_carry.sh; the headers come from the GPU
# machine (run_gpu_session.sh's "headers" step packs its Python headers and
# its pybind11, which also supports that machine's NumPy 2).
#
#   scripts/gpu/build_python_ext.sh PY_HEADERS_TGZ [BUILD_DIR]
#
# The compile and link lines are CMake's own for the normcheck_python
# target (flags.make, link.txt), with the Python and pybind11 include
# folders swapped and the output named for the other Python.
set -euo pipefail
cd "$(dirname "$0")/../.."
tgz=${1:?usage: build_python_ext.sh PY_HEADERS_TGZ [BUILD_DIR]}
build=${2:-build}
target_dir=$build/harness/python/CMakeFiles/normcheck_python.dir
[ -f "$target_dir/flags.make" ] || { echo "build_python_ext: no $target_dir (build normcheck_python first)" >&2; exit 2; }
[ -d .carry/python/normcheck ] || { echo "build_python_ext: no .carry/python/normcheck (run collect_carry.sh first)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$tgz" -C "$work"
py_include=$(find "$work" -maxdepth 4 -type f -name Python.h -printf '%h\n' | head -1)
# Debian/Ubuntu: pyconfig.h includes <x86_64-linux-gnu/pythonX.Y/pyconfig.h>.
multiarch_root=$work/usr/include
pybind_include=$(find "$work" -type d -path '*pybind11/include' | head -1)
[ -n "$py_include" ] && [ -n "$pybind_include" ] || { echo "build_python_ext: $tgz holds no Python.h or pybind11/include" >&2; exit 2; }
version=$(basename "$py_include" | sed -n 's/^python\([0-9]\)\.\([0-9]*\).*/\1\2/p')
suffix=".cpython-${version}-x86_64-linux-gnu.so"

defines=$(sed -n 's/^CXX_DEFINES = //p' "$target_dir/flags.make")
includes=$(sed -n 's/^CXX_INCLUDES = //p' "$target_dir/flags.make" | sed 's#-isystem /usr/include/python3[.0-9]*##')
# -Werror off: the other pybind11's headers are not this project's code.
flags=$(sed -n 's/^CXX_FLAGS = //p' "$target_dir/flags.make" | sed 's/-Werror//')
objects=()
for src in module dlpack_exchange cuda_runtime; do
  # eval: CMake's files quote for a shell (-DNORMCHECK_VERSION=\"0.1.0\").
  eval c++ "$defines" -isystem "$pybind_include" -isystem "$py_include" \
    -isystem "$multiarch_root" "$includes" "$flags" \
    -c "harness/python/src/$src.cpp" -o "$work/$src.o"
  objects+=("$work/$src.o")
done
# The link line of link.txt, run from the target's folder (its paths are
# relative to it), with our objects and output.
link=$(cat "$target_dir/link.txt")
libs=${link#*cuda_runtime.cpp.o}
out="$PWD/.carry/python/normcheck/_normcheck$suffix"
# shellcheck disable=SC2086
(cd "$build/harness/python" && c++ -fPIC -O3 -DNDEBUG -shared -o "$out" "${objects[@]}" $libs)
echo "build_python_ext: $(du -h "$out" | cut -f1) $out"
