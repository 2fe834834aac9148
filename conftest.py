"""The test suite never reads or writes the user's module cache: every test
process (each xdist worker, and the commands they start) uses a cache
directory of its own, removed at the end (tests of the cache itself make
their own directories)."""

from __future__ import annotations

import os
import shutil
import tempfile

from interp.translate.cache import CACHE_DIR_VARIABLE

_directory = tempfile.mkdtemp(prefix="glasswasm-test-cache-")
os.environ[CACHE_DIR_VARIABLE] = _directory


def pytest_unconfigure() -> None:
    shutil.rmtree(_directory, ignore_errors=True)
