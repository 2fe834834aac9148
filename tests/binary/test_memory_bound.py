"""Decoding and validating hostile modules stays within a memory bound.

The property tests of the decoder and the validator run again in a process
whose address space is capped: a module that makes the decoder preallocate
what it declares (counts of four billion entries, vast locals, huge
sections) would end that run in a MemoryError instead of a ``malformed`` or
``invalid`` answer.  Declared-but-absent counts get explicit cases too, and
the command line answers them in one line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from interp.binary import decode_module
from interp.binary.encode import encode_unsigned
from interp.cli.main import main
from interp.errors import GlasswasmError

ROOT = Path(__file__).parents[2]
ADDRESS_SPACE_LIMIT = 1536 * 1024 * 1024  # the interpreter, pytest, hypothesis and the engine fit easily
HEADER = b"\x00asm\x01\x00\x00\x00"
MANY = encode_unsigned(0xFFFF_FFFF)


def section(code: int, payload: bytes) -> bytes:
    return bytes([code]) + encode_unsigned(len(payload)) + payload


COUNT_BOMBS = {
    "types": HEADER + section(1, MANY),
    "imports": HEADER + section(2, MANY),
    "functions": HEADER + section(3, MANY),
    "globals": HEADER + section(6, MANY),
    "exports": HEADER + section(7, MANY),
    "code": HEADER + section(1, b"\x01\x60\x00\x00") + section(3, b"\x01\x00") + section(10, MANY),
    "locals": HEADER + section(1, b"\x01\x60\x00\x00") + section(3, b"\x01\x00")
    + section(10, b"\x01" + encode_unsigned(8) + b"\x01" + MANY + b"\x7f\x0b"),
    "data": HEADER + section(11, MANY),
    "section size": HEADER + b"\x01" + MANY,
}


@pytest.mark.parametrize("name", sorted(COUNT_BOMBS))
def test_declared_counts_are_not_preallocated(name: str) -> None:
    with pytest.raises(GlasswasmError):
        decode_module(COUNT_BOMBS[name])


def test_a_count_bomb_is_one_line_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb.wasm"
    path.write_bytes(COUNT_BOMBS["locals"])
    assert main(["validate", str(path)]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_the_property_tests_hold_under_an_address_space_limit() -> None:
    script = (
        "import resource, sys, pytest\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE_LIMIT}, {ADDRESS_SPACE_LIMIT}))\n"
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:xdist', '--hypothesis-profile=ci',"
        " 'tests/binary/test_binary_fuzz.py', 'tests/valid/test_properties.py']))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "passed" in result.stdout and "MemoryError" not in result.stdout
