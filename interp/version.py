"""The installed glasswasm's version (``glasswasm --version``, the module cache's keys)."""

from __future__ import annotations

import importlib.metadata

PACKAGE = "glasswasm"


def package_version() -> str:
    """The installed package's version, from its metadata."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: no package metadata)"
