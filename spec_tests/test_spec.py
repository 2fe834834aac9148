"""One test per .wast file of the testsuite named by ``WASM_TESTSUITE``, under
every engine this installation has.

A file passes when exactly its listed failures fail (usually none).  A failure
that is not listed fails the test, and so does a listed failure that passes
now, so the expectations file is kept honest in both directions.  In a
testsuite glasswasm recognises (``interp.script.testsuites``), its folders
are included, and a file that needs features the engine does not declare
(``interp.features``) is skipped with the features it needs.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pytest

from interp.exec.engines import available_engines
from interp.exec.store import EngineConfig
from interp.script.run import run_script_file
from interp.script.testsuites import place_of, recognise, files_of_testsuite
from spec_tests.expectations import SUITE_VARIABLE, configured_testsuite, load_expectations

EXPECTATIONS = load_expectations()
SUITE = configured_testsuite()
KNOWN = recognise(SUITE) if SUITE is not None and SUITE.is_dir() else None
SCRIPTS = (files_of_testsuite(SUITE, KNOWN) if KNOWN is not None else sorted(SUITE.glob("*.wast"))) \
    if SUITE is not None else []


def relative_name(script: Path) -> str:
    """The script's path within the testsuite: its test id and its key in expected_failures.toml."""
    return script.relative_to(SUITE).as_posix() if SUITE is not None else script.name
ENGINES = available_engines()
REQUIRE_COMPILED = "GLASSWASM_REQUIRE_COMPILED_LOOP"


def test_testsuite_is_present() -> None:
    if SUITE is None:
        pytest.skip(f"set {SUITE_VARIABLE} to a clone of github.com/WebAssembly/testsuite at a pinned commit "
                    f"(see the README)")
    assert SUITE.is_dir(), f"{SUITE_VARIABLE}={SUITE} is not a folder"
    assert SCRIPTS, f"no .wast files in {SUITE}"


def test_the_feature_table_names_files_of_the_testsuite() -> None:
    """Every file pattern of the recognised testsuite's table matches one of
    its files (a misspelt name would otherwise leave its file to fail)."""
    if KNOWN is None:
        pytest.skip(f"{SUITE_VARIABLE} is not a testsuite glasswasm recognises")
    names = [relative_name(script) for script in SCRIPTS]
    unmatched = [f"{feature.value}: {pattern}" for feature, patterns in KNOWN.needs for pattern in patterns
                 if not fnmatch.filter(names, pattern)]
    assert not unmatched, f"patterns matching no file of {SUITE}: {unmatched}"


def test_compiled_loop_is_built_where_required() -> None:
    """CI sets GLASSWASM_REQUIRE_COMPILED_LOOP, so that a failed Cython build
    cannot quietly leave the conformance suite running on one engine."""
    if not os.environ.get(REQUIRE_COMPILED):
        pytest.skip(f"{REQUIRE_COMPILED} is not set")
    assert "cython" in ENGINES, "the compiled loop was not built"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("script", SCRIPTS, ids=[relative_name(s) for s in SCRIPTS])
def test_script(script: Path, engine: str) -> None:
    name = relative_name(script)
    reason = EXPECTATIONS.unsupported_reason(name)
    if reason:
        pytest.skip(reason)
    place = place_of(script)
    if place is not None and place.missing:
        pytest.skip(f"needs {', '.join(place.missing)}, which glasswasm does not "
                    f"support yet ({place.testsuite.name})")
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
