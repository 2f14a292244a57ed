"""Shared by the package's tests: where CTest put the CLI, the test plugin
and the scratch folder (harness/python/tests/CMakeLists.txt sets them)."""
import os
from pathlib import Path

import pytest


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through CTest (ctest -R python:)")
    return value


@pytest.fixture(scope="session")
def cli():
    return _env("NORMCHECK_CLI")


@pytest.fixture(scope="session")
def broken_plugin():
    return _env("NORMCHECK_BROKEN_LN_PLUGIN")


@pytest.fixture(scope="session")
def out_dir():
    d = Path(_env("NORMCHECK_TEST_OUT"))
    d.mkdir(parents=True, exist_ok=True)
    return d
