"""Reading the expectations file: which testsuite files are not run yet and
which checks are known to fail, each with its reason."""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from interp.features import SUPPORTED_FEATURES, Feature
from interp.script.testsuites import WASM_2_0, recognise

EXPECTATIONS_FILE = Path(__file__).with_name("expected_failures.toml")


@dataclass(frozen=True)
class Expectations:
    """Keys name a file as ``VERSION/PATH``: the testsuite's version (``2.0``,
    ``3.0``; the folder's name for a testsuite glasswasm does not know) and
    the file's path inside it, as the harness's test ids do."""

    unsupported: dict[str, str]  # glob pattern -> reason
    failures: dict[str, str]     # "VERSION/file.wast:LINE" -> reason

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


def configured_testsuites() -> list[Path]:
    """The testsuite folders named by ``WASM_TESTSUITE``: clones of
    github.com/WebAssembly/testsuite checked out at a pinned commit (see the
    README), several separated by ``os.pathsep`` (``2.0:3.0``)."""
    return [Path(folder) for folder in os.environ.get(SUITE_VARIABLE, "").split(os.pathsep) if folder]


def configured_testsuite() -> Path | None:
    """The configured WebAssembly 2.0 testsuite (else the first configured
    folder), or ``None`` when ``WASM_TESTSUITE`` is not set: the one the
    tests of a single format (binary, text, numerics) read."""
    suites = configured_testsuites()
    return next((suite for suite in suites if suite.is_dir() and recognise(suite) is WASM_2_0),
                suites[0] if suites else None)


def features_of_testsuite(suite: Path | None) -> frozenset[Feature]:
    """The features the files of ``suite`` are read with: its standard's
    (WebAssembly 2.0's for the 2.0 testsuite, whose files say what 2.0
    rejects), or everything the engine supports for a folder glasswasm does
    not know."""
    known = recognise(suite) if suite is not None and suite.is_dir() else None
    return known.standard if known is not None else SUPPORTED_FEATURES


def suite_label(suite: Path) -> str:
    """How test ids and expectation keys name a testsuite: its version, or
    the folder's name for one glasswasm does not know."""
    known = recognise(suite) if suite.is_dir() else None
    return known.version if known is not None else suite.name
