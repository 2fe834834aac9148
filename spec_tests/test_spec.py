"""One test per .wast file of the testsuites named by ``WASM_TESTSUITE``
(several separated by ``os.pathsep``), under every engine this installation
has.

A file passes when exactly its listed failures fail (usually none).  A failure
that is not listed fails the test, and so does a listed failure that passes
now, so the expectations file is kept honest in both directions.  In a
testsuite glasswasm recognises (``interp.script.testsuites``), its folders
are included; a file that needs features the engine does not declare
(``interp.features``) is not run only when the expectations file lists it
under ``unsupported`` with a reason, and the listing must go once the file
can run.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from interp.exec.engines import available_engines
from interp.exec.store import EngineConfig
from interp.script import testsuites
from interp.script.run import run_script_file
from interp.script.testsuites import files_of_testsuite, place_of, recognise
from spec_tests.expectations import (
    SUITE_VARIABLE,
    configured_testsuites,
    load_expectations,
    suite_label,
)

EXPECTATIONS = load_expectations()
SUITES = configured_testsuites()


@dataclass(frozen=True)
class SuiteFiles:
    folder: Path
    known: testsuites.Testsuite | None
    scripts: list[Path]


def _files_of(folder: Path) -> SuiteFiles:
    known = recognise(folder) if folder.is_dir() else None
    scripts = files_of_testsuite(folder, known) if known is not None else sorted(folder.glob("*.wast"))
    return SuiteFiles(folder, known, scripts)


SUITE_FILES = [_files_of(folder) for folder in SUITES]
SCRIPTS = [(suite.folder, script) for suite in SUITE_FILES for script in suite.scripts]


def relative_name(suite: Path, script: Path) -> str:
    """The script's test id and its key in expected_failures.toml: the
    testsuite's version and the path within it (``3.0/legacy/throw.wast``)."""
    return f"{suite_label(suite)}/{script.relative_to(suite).as_posix()}"


ENGINES = available_engines()
REQUIRE_COMPILED = "GLASSWASM_REQUIRE_COMPILED_LOOP"


def test_testsuite_is_present() -> None:
    if not SUITES:
        pytest.skip(f"set {SUITE_VARIABLE} to a clone of github.com/WebAssembly/testsuite at a pinned commit "
                    f"(see the README)")
    for suite in SUITE_FILES:
        assert suite.folder.is_dir(), f"{SUITE_VARIABLE} names {suite.folder}, which is not a folder"
        assert suite.scripts, f"no .wast files in {suite.folder}"


def test_the_feature_table_names_files_of_the_testsuite() -> None:
    """Every file pattern of a recognised testsuite's table matches one of
    its files (a misspelt name would otherwise leave its file to fail)."""
    known = [suite for suite in SUITE_FILES if suite.known is not None]
    if not known:
        pytest.skip(f"{SUITE_VARIABLE} names no testsuite glasswasm recognises")
    for suite in known:
        names = [script.relative_to(suite.folder).as_posix() for script in suite.scripts]
        unmatched = [f"{feature.value}: {pattern}" for feature, patterns in suite.known.needs
                     for pattern in patterns if not fnmatch.filter(names, pattern)]
        assert not unmatched, f"patterns matching no file of {suite.folder}: {unmatched}"


def test_every_unsupported_listing_names_a_file() -> None:
    """A pattern under ``unsupported`` that matches no configured file is
    stale (or misspelt)."""
    if not SUITES:
        pytest.skip(f"{SUITE_VARIABLE} is not set")
    labels = {suite_label(folder) for folder in SUITES}
    names = [relative_name(folder, script) for folder, script in SCRIPTS]
    stale = [pattern for pattern in EXPECTATIONS.unsupported
             if pattern.split("/", 1)[0] in labels and not fnmatch.filter(names, pattern)]
    assert not stale, f"unsupported patterns matching no file: {stale}"


def test_compiled_loop_is_built_where_required() -> None:
    """CI sets GLASSWASM_REQUIRE_COMPILED_LOOP, so that a failed Cython build
    cannot quietly leave the conformance suite running on one engine."""
    if not os.environ.get(REQUIRE_COMPILED):
        pytest.skip(f"{REQUIRE_COMPILED} is not set")
    assert "cython" in ENGINES, "the compiled loop was not built"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("suite,script", SCRIPTS, ids=[relative_name(suite, script) for suite, script in SCRIPTS])
def test_script(suite: Path, script: Path, engine: str) -> None:
    name = relative_name(suite, script)
    reason = EXPECTATIONS.unsupported_reason(name)
    place = place_of(script)
    missing = place.missing if place is not None else ()
    if reason and not missing:
        pytest.fail(f"listed as unsupported ({reason}), but the engine now declares every feature it needs: "
                    f"remove it from expected_failures.toml")
    if reason:
        pytest.skip(reason)
    if missing:
        pytest.fail(f"needs {', '.join(missing)}, which glasswasm does not support yet: list it under "
                    f"[unsupported] in expected_failures.toml with the reason, or declare the features")
    result = run_script_file(script, EngineConfig(engine=engine))
    assert result.error is None, result.error
    failures = {f"{name}:{check.line}": f"{check.command}: {check.detail}"
                for check in result.checks if not check.passed}
    expected = EXPECTATIONS.failures_in(name)
    unexpected = {key: detail for key, detail in failures.items() if key not in expected}
    fixed = sorted(key for key in expected if key not in failures)
    problems = [f"{key}: {detail}" for key, detail in sorted(unexpected.items())]
    problems += [f"{key}: listed as failing ({expected[key]}) but passes now; remove it from "
                 f"expected_failures.toml" for key in fixed]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert result.checks, "the script has no commands"
