"""One test per .wast file of the testsuite named by ``WASM_TESTSUITE``.

A file passes when exactly its listed failures fail (usually none).  A failure
that is not listed fails the test, and so does a listed failure that passes
now, so the expectations file is kept honest in both directions.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interp.script.run import run_script_file
from spec_tests.expectations import load_expectations

SUITE_VARIABLE = "WASM_TESTSUITE"
EXPECTATIONS = load_expectations()


def _scripts() -> list[Path]:
    folder = os.environ.get(SUITE_VARIABLE)
    if not folder:
        return []
    return sorted(Path(folder).glob("*.wast"))


SCRIPTS = _scripts()


def test_testsuite_is_present() -> None:
    folder = os.environ.get(SUITE_VARIABLE)
    if not folder:
        pytest.skip(f"set {SUITE_VARIABLE} to a clone of github.com/WebAssembly/testsuite (a version folder)")
    assert Path(folder).is_dir(), f"{SUITE_VARIABLE}={folder} is not a folder"
    assert SCRIPTS, f"no .wast files in {folder}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_script(script: Path) -> None:
    reason = EXPECTATIONS.unsupported_reason(script.name)
    if reason:
        pytest.skip(reason)
    result = run_script_file(script)
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
