"""Shared setup of the proxy-wasm host tests: the repository root on
``sys.path`` (so ``tests.abi.wat_plugins`` imports however pytest is
started), and the ``proxy_host`` fixture even where the package's ``pytest11``
entry point is not installed (a conftest fixture of the same name simply
takes precedence)."""

from __future__ import annotations

import sys
from pathlib import Path

_REPOSITORY_ROOT = str(Path(__file__).resolve().parents[2])
if _REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, _REPOSITORY_ROOT)

from abi.frontends.pytest_plugin import proxy_host  # noqa: E402,F401
