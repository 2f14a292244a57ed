#!/usr/bin/env bash
# After scripts/register-python (which scripts/build runs for build/), the
# configured interpreter imports normcheck from this build with no
# PYTHONPATH, from any working directory. Hermetic: HOME points at a fresh
# folder, so the user's own site-packages are not touched.
# Usage: import_without_pythonpath.sh SOURCE_DIR BUILD_DIR PYTHON
set -euo pipefail
source_dir=$1 build=$2 python=$3
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
HOME=$home NORMCHECK_REGISTER_PYTHON=1 "$source_dir/scripts/register-python" "$build"
cd /
found=$(env -u PYTHONPATH HOME="$home" "$python" -c "import normcheck; print(normcheck.__file__)")
echo "imported from $found"
[ "$found" = "$build/python/normcheck/__init__.py" ] || { echo "FAIL: expected $build/python/normcheck/__init__.py"; exit 1; }
# And without the registration it is not found: the test can fail.
rm "$(HOME=$home "$python" -c 'import site; print(site.getusersitepackages())')/normcheck.pth"
if env -u PYTHONPATH HOME="$home" "$python" -c "import normcheck" 2>/dev/null; then
  echo "FAIL: normcheck imports even without the registration (another copy on sys.path?)"; exit 1
fi
echo "ok"
