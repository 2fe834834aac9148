"""One test per .wast file of the testsuite named by ``WASM_TESTSUITE``, under
every engine this installation has.

A file passes when exactly its listed failures fail (usually none).  A failure
that is not listed fails the test, and so does a listed failure that passes
now, so the expectations file is kept honest in both directions.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interp.exec.engines import available_engines
from interp.exec.store import EngineConfig
from interp.script.run import run_script_file
from spec_tests.expectations import SUITE_VARIABLE, configured_testsuite, load_expectations

EXPECTATIONS = load_expectations()
SUITE = configured_testsuite()
SCRIPTS = sorted(SUITE.glob("*.wast")) if SUITE is not None else []
ENGINES = available_engines()
REQUIRE_COMPILED = "GLASSWASM_REQUIRE_COMPILED_LOOP"


def test_testsuite_is_present() -> None:
    if SUITE is None:
        pytest.skip(f"set {SUITE_VARIABLE} to a clone of github.com/WebAssembly/testsuite (a version folder)")
    assert SUITE.is_dir(), f"{SUITE_VARIABLE}={SUITE} is not a folder"
    assert SCRIPTS, f"no .wast files in {SUITE}"


def test_compiled_loop_is_built_where_required() -> None:
    """CI sets GLASSWASM_REQUIRE_COMPILED_LOOP, so that a failed Cython build
    cannot quietly leave the conformance suite running on one engine."""
    if not os.environ.get(REQUIRE_COMPILED):
        pytest.skip(f"{REQUIRE_COMPILED} is not set")
    assert "cython" in ENGINES, "the compiled loop was not built"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_script(script: Path, engine: str) -> None:
    reason = EXPECTATIONS.unsupported_reason(script.name)
    if reason:
        pytest.skip(reason)
    result = run_script_file(script, EngineConfig(engine=engine))
    assert result.error is None, result.error
    failures = {f"{script.name}:{check.line}": f"{check.command}: {check.detail}"
                for check in result.checks if not check.passed}
    expected = EXPECTATIONS.failures_in(script.name)
    unexpected = {key: detail for key, detail in failures.items() if key not in expected}
    fixed = sorted(key for key in expected if key not in failures)
    problems = [f"{key}: {detail}" for key, detail in sorted(unexpected.items())]
    problems += [f"{key}: listed as failing ({expected[key]}) but passes now; remove it from "
                 f"expected_failures.toml" for key in fixed]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert result.checks, "the script has no commands"
