"""Garbage in, one clean line out: truncated, bit-flipped and random bytes
given to ``glasswasm validate`` and ``glasswasm run`` never produce a
traceback, whatever they decode to."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interp.binary.encode import encode_module
from interp.cli.main import main
from interp.text.parser import parse_module

SEED_MODULES = [
    encode_module(parse_module(text)) for text in (
        """(module (memory 1) (global $g (mut i32) (i32.const 0))
             (func $start (local i32)
               (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                 (i32.store (local.get 0) (local.get 0))
                 (br_if $l (i32.lt_u (local.get 0) (i32.const 100)))))
             (start $start))""",
        """(module (table 2 funcref) (elem (i32.const 0) $a $b)
             (func $a (result i32) (call_indirect (result i32) (i32.const 1)))
             (func $b (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
             (func $s (drop (call $a))) (start $s) (data "xyz"))""",
    )
]

KNOWN_LABELS = ("malformed: ", "invalid: ", "unlinkable: ", "trap: ", "exhaustion: ", "fuel: ",
                "resource limit: ", "error: nothing to run: ")


def check_clean(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["validate", str(path)],
                    ["run", "--fuel", "20000", "--max-memory-pages", "16", str(path)]):
        status = main(command)
        err = capsys.readouterr().err
        assert status in (0, 1)
        if status == 1:
            first, *rest = err.splitlines()
            assert first.startswith(KNOWN_LABELS) or first.startswith(f"{path}:"), err  # text: FILE:LINE:COL
            assert all(line.startswith("  ") for line in rest), err
        assert "Traceback" not in err


def mutate(data: bytes, flips: list[int], cut: int) -> bytes:
    mutable = bytearray(data[:max(8, cut)])
    for bit in flips:
        position = 8 + bit // 8 % max(1, len(mutable) - 8)
        if position < len(mutable):
            mutable[position] ^= 1 << (bit % 8)
    return bytes(mutable)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(SEED_MODULES), flips=st.lists(st.integers(0, 1 << 16), max_size=4),
       cut=st.integers(0, 400))
def test_mutated_modules_give_clean_errors(tmp_path: Path, capsys, seed: bytes, flips: list[int],
                                           cut: int) -> None:
    path = tmp_path / "mutant.wasm"
    path.write_bytes(mutate(seed, flips, cut))
    check_clean(path, capsys)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200), binary=st.booleans())
def test_random_bytes_give_clean_errors(tmp_path: Path, capsys, data: bytes, binary: bool) -> None:
    path = tmp_path / "random.wasm"
    path.write_bytes((b"\0asm\x01\0\0\0" if binary else b"") + data)
    check_clean(path, capsys)
