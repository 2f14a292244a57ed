"""CTest's entry to pytest: runs one test file under this interpreter and
fails when pytest collected nothing (exit 5), which CTest would otherwise
not see as a failure of a test that cannot fail."""
import sys

import pytest

code = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
if code == pytest.ExitCode.NO_TESTS_COLLECTED:
    print("run_pytest: no tests collected - failing instead of passing silently", file=sys.stderr)
    sys.exit(1)
sys.exit(int(code))
