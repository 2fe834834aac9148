"""Lets the validator tests import their module builder as
``tests.valid.assemble`` however pytest is started: with
``--import-mode=importlib`` pytest does not put the repository root on
``sys.path`` itself (``python -m pytest`` does, through the working directory)."""

from __future__ import annotations

import sys
from pathlib import Path

_REPOSITORY_ROOT = str(Path(__file__).resolve().parents[2])
if _REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, _REPOSITORY_ROOT)
