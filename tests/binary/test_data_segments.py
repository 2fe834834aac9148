"""A decoded binary keeps its data segments compactly (``DataSegments``):
every segment it gives back is the ``Data`` a plain reading of the data
section gives, and ``data_entries`` (what validation and instantiation walk)
says the same, on every module of the configured testsuites and on every
program in the repository.  The plain reading here is the test's own, from
the binary format's definition (spec 5.5.14)."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import pytest

from interp.binary.decode import DataSegments, decode_expr, decode_module
from interp.binary.encode import encode_module
from interp.binary.reader import ByteReader
from interp.errors import MalformedError
from interp.syntax.module import Data, SegmentMode, data_entries
from interp.syntax.opcodes import op
from interp.syntax.types import I32, I64
from interp.text.script import AssertInvalid, AssertUnlinkable, ModuleCommand, ModuleSource, parse_script
from spec_tests.expectations import configured_testsuites

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = sorted(path for folder in ("benchmarks", "examples", "tests") for path in (ROOT / folder).rglob("*.wasm*")
                  if path.name.endswith((".wasm", ".wasm.gz")))
WAST_FILES = sorted(path for suite in configured_testsuites() if suite.is_dir() for path in suite.glob("*.wast"))
_CONSTANT_ADDRESS = {op("i32.const"): I32, op("i64.const"): I64}


def plain_datas(binary: bytes) -> tuple[Data, ...]:
    """The data section's segments, read one by one into ``Data``."""
    reader = ByteReader(binary, 8, "unexpected end")
    while not reader.at_end():
        section_id = reader.byte()
        size = reader.length()
        if section_id != 11:
            reader.skip(size)
            continue
        datas = []
        for _ in range(reader.length()):
            flags = reader.u32()
            if flags == 1:
                datas.append(Data(reader.bytes(reader.length()), SegmentMode.PASSIVE))
                continue
            memory = reader.u32() if flags == 2 else 0
            offset, reader.pos, _ = decode_expr(binary, reader.pos)
            datas.append(Data(reader.bytes(reader.length()), SegmentMode.ACTIVE, memory, offset))
        return tuple(datas)
    return ()


def check_compact(binary: bytes) -> int:
    """Compare the decoded module's segments with the plain reading; the
    number of segments compared (0 when the binary does not decode)."""
    try:
        module = decode_module(binary)
    except MalformedError:
        return 0
    expected = plain_datas(binary)
    datas = module.datas
    assert len(datas) == len(expected)
    assert tuple(datas) == expected
    assert [datas[index] for index in range(len(datas))] == list(expected)
    if expected:
        assert isinstance(datas, DataSegments)
        assert datas[-1] == expected[-1] and datas[1:] == expected[1:]
        assert datas == expected and hash(datas) == hash(expected)
    for entry, data in zip(data_entries(datas), expected, strict=True):
        mode, memory, init, offset, address = entry
        assert (mode, init) == (data.mode, data.init)
        if mode is SegmentMode.ACTIVE:
            assert memory == data.memory
        if address is None:
            assert offset == data.offset
        else:
            assert data.offset is not None and len(data.offset) == 2
            assert (address, offset) == (_CONSTANT_ADDRESS[data.offset[0].op], data.offset[0].imm)
    plain = dataclasses.replace(module, datas=expected)
    assert module == plain
    assert encode_module(module) == encode_module(plain)
    return len(expected)


def test_a_segment_reads_back_as_plainly_decoded() -> None:
    # (module (import "m" "g" (global i32)) (memory 1)
    #   (data (i32.const 8) "ab") (data "passive") (data (offset (global.get 0)) "c") (data (i32.const -1) ""))
    binary = bytes.fromhex(
        "0061736d01000000" "020801016d0167037f00" "0503010001"
        "0b1c04" "0041080b026162" "010770617373697665" "0023000b0163" "00417f0b00")
    assert check_compact(binary) == 4
    datas = decode_module(binary).datas
    assert datas[0].offset is not None and datas[0].offset[0].imm == 8 and datas[0].offset[0].offset == 0x1b
    assert list(data_entries(datas))[3] == (SegmentMode.ACTIVE, 0, b"", 0xFFFF_FFFF, I32)
    with pytest.raises(IndexError):
        datas[4]


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: str(path.relative_to(ROOT)))
def test_programs(path: Path) -> None:
    binary = path.read_bytes()
    check_compact(gzip.decompress(binary) if path.suffix == ".gz" else binary)


@pytest.mark.skipif(not WAST_FILES, reason="WASM_TESTSUITE is not set")
@pytest.mark.parametrize("path", WAST_FILES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_testsuite_modules(path: Path) -> None:
    for command in parse_script(path.read_text()):
        if isinstance(command, (ModuleCommand, AssertInvalid, AssertUnlinkable)):
            module = command.module
            if module.source is ModuleSource.BINARY:
                check_compact(module.binary or b"")
            elif module.source is not ModuleSource.QUOTE and module.module is not None:
                check_compact(encode_module(module.module))
