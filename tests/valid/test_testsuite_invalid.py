"""The validator against the official testsuite: every ``assert_invalid``
text module must be rejected with a message starting with the expected text,
and every plain text module must validate.

Needs the text parser (``interp.text.script``); skipped without it.  Files
whose scripts use instructions the opcode table does not have yet (SIMD) are
skipped when they fail to parse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.errors import InvalidError, MalformedError

script = pytest.importorskip("interp.text.script")

from interp.valid import validate_module  # noqa: E402
from spec_tests.expectations import configured_testsuite, features_of_testsuite  # noqa: E402

SUITE = configured_testsuite() or Path("testsuite-not-configured")
FEATURES = features_of_testsuite(configured_testsuite())
"""The rules of the testsuite's version of the standard (2.0's are stricter than 3.0's)."""
FILES = sorted(SUITE.glob("*.wast"))


def commands_of(path: Path) -> tuple:
    try:
        return script.parse_script(path.read_text(encoding="utf-8"), FEATURES)
    except MalformedError as error:
        if path.name.startswith("simd_"):
            pytest.skip(f"SIMD instructions are not in the opcode table yet: {error}")
        raise


@pytest.mark.skipif(not FILES, reason="testsuite not available")
@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_testsuite_file(path: Path) -> None:
    failures = []
    for command in commands_of(path):
        is_invalid = isinstance(command, script.AssertInvalid)
        if not (is_invalid or isinstance(command, script.ModuleCommand)):
            continue
        module = command.module.module
        if module is None:  # a binary or quoted module: decoding it is not this test's business
            continue
        try:
            validate_module(module, features=FEATURES)
        except InvalidError as error:
            if not is_invalid:
                failures.append(f"line {command.line}: valid module rejected: {error}")
            elif not error.message.startswith(command.message):
                failures.append(f"line {command.line}: expected {command.message!r}, got {error.message!r}")
        else:
            if is_invalid:
                failures.append(f"line {command.line}: expected {command.message!r}, but it validated")
    assert not failures, "\n".join(failures)
