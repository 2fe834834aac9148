"""Compiling a binary in one pass (``compile_binary``: each body validated as
the decoder reads it) answers exactly what decoding then validating answers,
on every module of the official testsuite: the same verdict, the same first
error.  (The conformance harness decodes and validates in two steps.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.binary.decode import decode_module
from interp.binary.encode import encode_module
from interp.errors import InvalidError, MalformedError
from interp.text.script import AssertInvalid, AssertMalformed, AssertUnlinkable, ModuleCommand, ModuleSource, \
    ScriptModule, parse_script
from interp.translate.compiled import compile_binary
from interp.valid.module import validate_module
from spec_tests.expectations import configured_testsuite

TESTSUITE = configured_testsuite()
pytestmark = pytest.mark.skipif(TESTSUITE is None, reason="WASM_TESTSUITE is not set")
WAST_FILES = sorted(TESTSUITE.glob("*.wast")) if TESTSUITE is not None else []
_COMMANDS = (ModuleCommand, AssertInvalid, AssertMalformed, AssertUnlinkable)


def binaries(path: Path) -> list[tuple[int, bytes]]:
    """The binary of every module the script defines or asserts about (text
    modules encoded; quoted ones, which test the text format, left out)."""
    found = []
    for command in parse_script(path.read_text()):
        if not isinstance(command, _COMMANDS):
            continue
        module: ScriptModule = command.module
        if module.source is ModuleSource.BINARY:
            found.append((command.line, module.binary or b""))
        elif module.source is not ModuleSource.QUOTE and module.module is not None:
            found.append((command.line, encode_module(module.module)))
    return found


def outcome(compile: object) -> tuple[str, str | None, object]:
    try:
        compile()  # type: ignore[operator]
    except MalformedError as error:
        return "malformed", error.message, None
    except InvalidError as error:
        return "invalid", error.message, error.function
    return "valid", None, None


@pytest.mark.parametrize("path", WAST_FILES, ids=lambda path: path.stem)
def test_one_pass_answers_as_two_passes(path: Path) -> None:
    checked = 0
    for line, binary in binaries(path):
        two_passes = outcome(lambda: validate_module(decode_module(binary)))
        assert outcome(lambda: compile_binary(binary)) == two_passes, f"{path.name}:{line}"
        checked += 1
    assert checked > 0 or not binaries(path)
