"""Reading the expectations file: which testsuite files are not run yet and
which checks are known to fail, each with its reason."""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

EXPECTATIONS_FILE = Path(__file__).with_name("expected_failures.toml")


@dataclass(frozen=True)
class Expectations:
    unsupported: dict[str, str]  # glob pattern -> reason
    failures: dict[str, str]     # "file.wast:LINE" -> reason (the file's path relative to the testsuite)

    def unsupported_reason(self, script_name: str) -> str | None:
        for pattern, reason in self.unsupported.items():
            if fnmatch.fnmatchcase(script_name, pattern):
                return reason
        return None

    def failures_in(self, script_name: str) -> dict[str, str]:
        prefix = script_name + ":"
        return {key: reason for key, reason in self.failures.items() if key.startswith(prefix)}


def load_expectations(path: Path = EXPECTATIONS_FILE) -> Expectations:
    with open(path, "rb") as stream:
        document = tomllib.load(stream)
    return Expectations(dict(document.get("unsupported", {})), dict(document.get("failures", {})))


SUITE_VARIABLE = "WASM_TESTSUITE"


def configured_testsuite() -> Path | None:
    """The testsuite folder named by ``WASM_TESTSUITE`` (a clone of
    github.com/WebAssembly/testsuite checked out at a pinned commit, see the
    README), or ``None`` when the variable is not set."""
    folder = os.environ.get(SUITE_VARIABLE)
    return Path(folder) if folder else None
