"""Memories and tables of WebAssembly 3.0 from the Python API and the command
line: 64-bit addresses and sizes as plain ints, several memories, page sizes,
import matching, the engine's memory cap, and the one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.cli.main import main
from interp.errors import InvalidError, ResourceLimitError, UnlinkableError
from interp.exec.engines import available_engines
from interp.exec.store import EngineConfig, Store
from interp.runtime.memory import MemoryInstance
from interp.runtime.table import TableInstance
from interp.syntax.types import FUNCREF, I32, I64, Limits, MemoryType, TableType
from interp.text import parse_module

MODULE = """(module
  (memory $small (export "small") 2 (pagesize 1))
  (memory $big (export "big") i64 1 3)
  (table $t (export "table") i64 2 funcref)
  (func $id (export "id") (param i64) (result i64) (local.get 0))
  (elem (table $t) (i64.const 1) func $id)
  (func (export "load") (param i64) (result i64) (i64.load $big (local.get 0)))
  (func (export "grow") (param i64) (result i64) (memory.grow $big (local.get 0)))
  (func (export "grow small") (param i32) (result i32) (memory.grow $small (local.get 0)))
  (func (export "table size") (result i64) (table.size $t))
  (func (export "call") (param i64 i64) (result i64)
    (call_indirect $t (param i64) (result i64) (local.get 0) (local.get 1))))"""


@pytest.fixture(params=available_engines())
def instance(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return Store(EngineConfig(engine=request.param, max_memory_pages=2)).instantiate(parse_module(MODULE))


def test_memories_are_exported_with_their_types(instance) -> None:  # type: ignore[no-untyped-def]
    small, big = instance.exports["small"], instance.exports["big"]
    assert (small.type, small.pages, len(small.data)) == (MemoryType(Limits(2), I32, 1), 2, 2)
    assert (big.type, big.pages, len(big.data)) == (MemoryType(Limits(1, 3), I64), 1, 65536)
    assert instance.memory is instance.memories[0] is small
    assert instance.exports["table"].type == TableType(Limits(2), FUNCREF, I64)


def test_64_bit_values_in_and_out(instance) -> None:  # type: ignore[no-untyped-def]
    instance.exports["big"].data[8:16] = (2**64 - 2).to_bytes(8, "little")
    assert instance.invoke("load", 8) == [2**64 - 2]
    assert instance.invoke("call", 7, 1) == [7]
    assert instance.invoke("table size") == [2]


def test_growing_past_the_engine_cap_gives_minus_one(instance) -> None:  # type: ignore[no-untyped-def]
    """The cap (max_memory_pages, in 64 KiB pages) holds for every memory,
    whatever its page size; -1 is all ones of the address type."""
    assert instance.invoke("grow", 1) == [1]
    assert instance.invoke("grow", 1) == [2**64 - 1]
    assert instance.invoke("grow small", 2 * 65536 - 2) == [2]
    assert instance.invoke("grow small", 1) == [2**32 - 1]
    assert instance.exports["small"].pages == 2 * 65536


def test_a_minimum_above_the_cap_is_refused_at_instantiation() -> None:
    with pytest.raises(ResourceLimitError, match=r"memory of 3 pages exceeds this engine's limit of 2 pages of 64 KiB"):
        Store(EngineConfig(max_memory_pages=2)).instantiate(parse_module("(module (memory i64 3))"))
    with pytest.raises(ResourceLimitError, match="memory of 200000 pages of 1 bytes exceeds"):
        Store(EngineConfig(max_memory_pages=2)).instantiate(parse_module("(module (memory 200000 (pagesize 1)))"))


def test_imports_match_address_types_and_page_sizes() -> None:
    store = Store()
    provided = {"m": {"memory64": MemoryInstance(MemoryType(Limits(1), I64)),
                      "bytes": MemoryInstance(MemoryType(Limits(10), I32, 1)),
                      "table64": TableInstance(TableType(Limits(1), FUNCREF, I64))}}
    store.instantiate(parse_module('(module (memory (import "m" "memory64") i64 1) '
                                   '(memory (import "m" "bytes") 10 (pagesize 1)) '
                                   '(table (import "m" "table64") i64 1 funcref))'), provided)
    for text, message in [
        ('(memory (import "m" "memory64") 1)', "expected (memory 1), got (memory i64 1)"),
        ('(memory (import "m" "bytes") 10)', "expected (memory 10), got (memory 10 (pagesize 1))"),
        ('(table (import "m" "table64") 1 funcref)', "expected (table 1 funcref), got (table i64 1 funcref)"),
    ]:
        with pytest.raises(UnlinkableError, match="incompatible import type") as raised:
            store.instantiate(parse_module(f"(module {text})"), provided)
        assert message in str(raised.value)


@pytest.mark.parametrize("text, message", [
    ("(module (memory i64 0x1_0000_0000_0001))", "memory size must be at most 281474976710656 pages"),
    ("(module (memory 1) (func (drop (i32.load offset=0x1_0000_0000 (i32.const 0)))))", "offset out of range"),
    ("(module (memory i64 1) (func (drop (i32.load (i32.const 0)))))", "type mismatch"),
    ("(module (memory 1) (func (drop (i32.load 1 (i32.const 0)))))", "unknown memory 1"),
])
def test_invalid_modules_are_typed_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidError, match=message):
        Store().instantiate(parse_module(text))


def test_errors_are_readable_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "big.wat"
    module.write_text("(module (memory i64 20000) (func (export \"f\")))")
    assert main(["run", "--invoke", "f", str(module)]) == 1
    assert capsys.readouterr().err == ("resource limit: memory of 20000 pages exceeds this engine's limit of 16384 "
                                       "pages of 64 KiB\n")
    module.write_text("(module (memory 1) (func (export \"f\") (drop (i64.load offset=0x1_0000_0000 (i32.const 0)))))")
    assert main(["validate", str(module)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{module}:1:46: error: offset out of range in i64.load",
        "  (module (memory 1) (func (export \"f\") (drop (i64.load offset=0x1_0000_0000 (i32.const 0)))))",
        "                                               ^^^^^^^^",
        "  in function 0, at offset 0x25"]
