"""Source maps from DWARF line tables (``interp.dwarf.source_map``).

The test program is ``programs/collatz.c`` + ``collatz_step.h`` + ``traps.c``,
built by ``programs/build.sh`` into ``collatz.wasm`` (DWARF 4) and
``collatz_dwarf5.wasm`` (DWARF 5).  The expected locations below were read once
from ``llvm-dwarfdump --debug-line`` and ``llvm-symbolizer --obj=collatz.wasm``
(which take code-section addresses) and ``wasm-objdump -h/-d`` (the code
section's contents start at 0x70) and are hard-coded here.  Other cases put a
hand-assembled line program in place of the real one, or corrupt the real one.
"""

from __future__ import annotations

import dataclasses
import os
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interp.binary.decode import decode_module
from interp.dwarf.lines import dwarf_info, read_line_tables
from interp.dwarf.source_map import SourceLocation, SourceMap
from interp.errors import Trap
from interp.loader import module_from_bytes, read_module
from interp.exec.store import Store
from interp.syntax.module import CustomSection, Func, Module
from interp.syntax.types import ExternKind

PROGRAMS = Path(__file__).parent / "programs"
MODULE_FILES = ("collatz.wasm", "collatz_dwarf5.wasm")
COMP_DIR = "/glasswasm/tests/debug/programs"
COLLATZ_C = f"{COMP_DIR}/collatz.c"
STEP_H = f"{COMP_DIR}/./collatz_step.h"
TRAPS_C = f"{COMP_DIR}/traps.c"
CODE_START = 0x70
"""Where the code section's contents start in both modules (``wasm-objdump -h``)."""

FIRST_INSTRUCTIONS = {
    # function: (offset of its first instruction, the location llvm-symbolizer gives its entry)
    "collatz_length": (0x76, SourceLocation(COLLATZ_C, 8)),
    "collatz_step": (0x129, SourceLocation(STEP_H, 4)),
    "longest_below": (0x1AE, SourceLocation(COLLATZ_C, 17)),
    "divide": (0x2A8, SourceLocation(TRAPS_C, 9)),
    "load_at": (0x2F4, SourceLocation(TRAPS_C, 14)),
}


def load(name: str) -> Module:
    return read_module(PROGRAMS / name)


def source_map(name: str = "collatz.wasm", module: Module | None = None) -> SourceMap:
    result = SourceMap.for_module(module or load(name), search_paths=[PROGRAMS])
    if result is None:
        pytest.fail(f"{name}: no source map")
    return result


def function(module: Module, name: str) -> Func:
    (index,) = [index for index, func_name in module.names.funcs.items() if func_name == name]
    return module.funcs[index - len(module.imports_of(ExternKind.FUNC))]


def with_section(module: Module, name: str, data: bytes | None) -> Module:
    """``module`` with custom section ``name`` replaced (or removed, for None)."""
    customs = tuple(
        CustomSection(custom.name, data, custom.after) if custom.name == name else custom
        for custom in module.customs if custom.name != name or data is not None
    )
    return dataclasses.replace(module, customs=customs)


def section(module: Module, name: str) -> bytes:
    (data,) = [custom.data for custom in module.customs if custom.name == name]
    return data


# -- the real program ----------------------------------------------------------


@pytest.mark.parametrize("name", MODULE_FILES)
def test_first_instruction_of_each_function(name: str) -> None:
    module = load(name)
    mapping = source_map(name)
    for func_name, (offset, expected) in FIRST_INSTRUCTIONS.items():
        assert function(module, func_name).body[0].offset == offset
        assert mapping.location(offset) == expected, func_name
        # The function's first row is at its locals, which the first instruction follows.
        assert mapping.location(function(module, func_name).offset) == expected


@pytest.mark.parametrize("name", MODULE_FILES)
def test_locations_inside_functions(name: str) -> None:
    mapping = source_map(name)
    cases = {
        CODE_START + 0x28: SourceLocation(COLLATZ_C, 9, 9),      # int length = 0;
        CODE_START + 0x3E: SourceLocation(COLLATZ_C, 10, 14),    # while (n != 1): the comparison
        CODE_START + 0x3F: SourceLocation(COLLATZ_C, 10, 14),    # inside that row's range
        CODE_START + 0x61: SourceLocation(COLLATZ_C, 11, 26),    # n = collatz_step(n);
        CODE_START + 0xD3: SourceLocation(STEP_H, 5, 9),          # if (n % 2 == 0)
        CODE_START + 0x1B8: SourceLocation(COLLATZ_C, 20, 52),   # collatz_length(best)
        CODE_START + 0x259: SourceLocation(TRAPS_C, 10, 17),     # int share = total / parts;
        CODE_START + 0x2CF: SourceLocation(TRAPS_C, 15, 5),      # last byte of load_at
    }
    for offset, expected in cases.items():
        assert mapping.location(offset) == expected, hex(offset)


@pytest.mark.parametrize("name", MODULE_FILES)
def test_no_location_outside_code_or_on_line_zero(name: str) -> None:
    mapping = source_map(name)
    assert mapping.location(0) is None
    assert mapping.location(CODE_START) is None                 # the function count
    assert mapping.location(CODE_START + 0x2D0) is None         # just past the code section
    assert mapping.location(CODE_START + 0x108) is None         # a row with line 0 in collatz_step
    assert mapping.location(CODE_START + 0x109) == SourceLocation(STEP_H, 7, 16)


@pytest.mark.parametrize("name", MODULE_FILES)
def test_files_in_code_order(name: str) -> None:
    assert source_map(name).files == (COLLATZ_C, STEP_H, TRAPS_C)


@pytest.mark.parametrize("name", MODULE_FILES)
def test_offsets_for_line(name: str) -> None:
    mapping = source_map(name)
    assert mapping.offsets_for_line("collatz.c", 8) == [0x76]           # entry row moved to the first instruction
    assert mapping.offsets_for_line("collatz.c", 9) == [CODE_START + 0x28]
    assert mapping.offsets_for_line("collatz.c", 10) == [CODE_START + 0x33, CODE_START + 0x92]  # test, back edge
    assert mapping.offsets_for_line("collatz.c", 19) == [CODE_START + 0x16B, CODE_START + 0x1F9]
    assert mapping.offsets_for_line("collatz_step.h", 5) == [CODE_START + 0xD3]
    assert mapping.offsets_for_line("traps.c", 10) == [CODE_START + 0x259]
    # By full path, by a trailing part, with the "./" the table records or without it.
    assert mapping.offsets_for_line(TRAPS_C, 15) == [CODE_START + 0x2A5]
    assert mapping.offsets_for_line("programs/collatz_step.h", 5) == [CODE_START + 0xD3]
    assert mapping.offsets_for_line(STEP_H, 5) == [CODE_START + 0xD3]
    # unused_helper (traps.c:6) was dropped by the linker: its rows are at a tombstone address.
    assert mapping.offsets_for_line("traps.c", 6) == []
    assert mapping.offsets_for_line("collatz.c", 99) == []
    assert mapping.offsets_for_line("ollatz.c", 10) == []
    assert mapping.offsets_for_line("/elsewhere/collatz.c", 10) == []


@pytest.mark.parametrize("name", MODULE_FILES)
def test_offsets_for_line_are_instructions_at_that_line(name: str) -> None:
    module = load(name)
    mapping = source_map(name)
    instructions = {instruction.offset for func in module.funcs for instruction in func.body}
    for line in range(1, 25):
        for offset in mapping.offsets_for_line("collatz.c", line):
            assert offset in instructions
            assert mapping.location(offset).line == line
            assert mapping.is_statement(offset)


@pytest.mark.parametrize("name", MODULE_FILES)
def test_is_statement(name: str) -> None:
    mapping = source_map(name)
    assert mapping.is_statement(CODE_START + 0x28)          # is_stmt prologue_end
    assert not mapping.is_statement(CODE_START + 0x3E)      # a row without is_stmt
    assert not mapping.is_statement(CODE_START + 0x29)      # no row there
    assert mapping.is_statement(0x76)                       # the entry row, at the locals, counts here
    assert not mapping.is_statement(0x7C)                   # the second instruction
    assert not mapping.is_statement(0x74)                   # inside the locals, not an instruction
    assert not mapping.is_statement(0)


def test_source_line_from_the_search_path() -> None:
    mapping = source_map()
    assert mapping.source_line(SourceLocation(COLLATZ_C, 8)) == "int collatz_length(int n) {"
    assert mapping.source_line(SourceLocation(STEP_H, 7, 16)) == "    return 3 * n + 1;"
    assert mapping.source_line(mapping.location(CODE_START + 0x259)) == "    int share = total / parts;"
    assert mapping.source_line(SourceLocation(TRAPS_C, 0)) is None
    assert mapping.source_line(SourceLocation(TRAPS_C, 17)) is None        # the file has 16 lines
    assert mapping.source_line(SourceLocation(TRAPS_C, 16)) == "}"
    assert mapping.source_line(SourceLocation(f"{COMP_DIR}/missing.c", 1)) is None


def test_source_line_needs_the_search_path_when_the_build_folder_is_elsewhere() -> None:
    mapping = SourceMap.for_module(load("collatz.wasm"))
    assert mapping is not None
    assert not os.path.exists(COMP_DIR)
    assert mapping.source_line(SourceLocation(COLLATZ_C, 8)) is None


def test_source_line_reads_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "traps.c").write_bytes(b"first\r\nsecond\r\n")
    mapping = SourceMap.for_module(load("collatz.wasm"), search_paths=[tmp_path, PROGRAMS])
    assert mapping is not None
    assert mapping.source_line(SourceLocation(TRAPS_C, 2)) == "second"      # CRLF: the CR goes too
    (tmp_path / "traps.c").write_bytes(b"changed\n")
    assert mapping.source_line(SourceLocation(TRAPS_C, 1)) == "first"
    # collatz.c is not in tmp_path: the next folder has it.
    assert mapping.source_line(SourceLocation(COLLATZ_C, 8)) == "int collatz_length(int n) {"


def test_source_line_reads_only_regular_files(tmp_path: Path) -> None:
    mapping = source_map()
    fifo = tmp_path / "pipe.c"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert mapping.source_line(SourceLocation(str(fifo), 1)) is None          # would block if opened
    assert mapping.source_line(SourceLocation(str(tmp_path), 1)) is None      # a folder
    assert mapping.source_line(SourceLocation("/dev/zero", 1)) is None
    assert mapping.source_line(SourceLocation("bad\0path.c", 1)) is None
    assert time.monotonic() - started < 5


def test_source_location_text() -> None:
    assert str(SourceLocation("dir/file.c", 12)) == "dir/file.c:12"
    assert str(SourceLocation("dir/file.c", 12, 7)) == "dir/file.c:12:7"


@pytest.mark.parametrize("name", MODULE_FILES)
def test_line_programs_agree_with_pyelftools(name: str) -> None:
    """The state machine of ``dwarf_lines`` against pyelftools' own decoder."""
    sections = {custom.name: custom.data for custom in load(name).customs}
    tables = read_line_tables(sections)
    ours = []
    for sequence in tables.sequences:
        ours += [(row.address, tables.files[row.file].path.rsplit("/", 1)[1], row.line, row.column, row.is_stmt)
                 for row in sequence.rows]
        ours.append(("end", sequence.end))
    info = dwarf_info(sections)
    theirs = []
    for unit in info.iter_CUs():
        program = info.line_program_for_CU(unit)
        first_file = 0 if program.header.version >= 5 else 1
        for entry in program.get_entries():
            state = entry.state
            if state is None:
                continue
            if state.end_sequence:
                theirs.append(("end", state.address))
                continue
            file_name = program.header.file_entry[state.file - first_file].name.decode()
            theirs.append((state.address, file_name, state.line, state.column, bool(state.is_stmt)))
    assert len(ours) == 65 + 6   # rows and end_sequence of six sequences (one dropped function)
    assert ours == theirs


def test_trap_backtraces_point_at_the_source() -> None:
    module = load("collatz.wasm")
    mapping = source_map(module=module)
    instance = Store().instantiate(module, {})
    assert instance.invoke("longest_below", 10) == [9]
    division = [instruction for instruction in function(module, "divide").body
                if instruction.op.name == "i32.div_s"]
    assert [instruction.offset for instruction in division] == [0x2DB]
    with pytest.raises(Trap) as divide_trap:
        instance.invoke("divide", 7, 0)
    (frame,) = divide_trap.value.backtrace
    assert frame.offset == 0x2DB
    assert str(mapping.location(frame.offset)) == f"{TRAPS_C}:10:23"
    with pytest.raises(Trap) as load_trap:
        instance.invoke("load_at", 0xFFFFFFF0, 3)
    location = mapping.location(load_trap.value.backtrace[0].offset)
    assert location == SourceLocation(TRAPS_C, 15, 12)
    assert mapping.source_line(location) == "    return values[index];"


# -- no line information -------------------------------------------------------


def test_no_line_information_gives_none() -> None:
    module = load("collatz.wasm")
    assert SourceMap.for_module(module_from_bytes(b"(module (func (export \"f\") (nop)))")) is None
    assert SourceMap.for_module(module_from_bytes(b"(module)")) is None
    assert SourceMap.for_module(with_section(module, ".debug_line", None)) is None
    assert SourceMap.for_module(with_section(module, ".debug_info", None)) is None
    assert SourceMap.for_module(with_section(module, ".debug_line", b"")) is None
    assert SourceMap.for_module(dataclasses.replace(module, customs=())) is None
    # Line tables only for code the module does not have.
    elsewhere = set_address(0x10000) + COPY + advance_pc(0x40) + END_SEQUENCE
    assert SourceMap.for_module(with_line_program(elsewhere)) is None


# -- hand-assembled line programs ----------------------------------------------


def uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def sleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte | (0 if done else 0x80))
        if done:
            return bytes(out)


def set_address(address: int) -> bytes:
    return b"\x00\x05\x02" + struct.pack("<I", address)


END_SEQUENCE = b"\x00\x01\x01"
COPY = b"\x01"
NEGATE_STMT = b"\x06"


def advance_pc(delta: int) -> bytes:
    return b"\x02" + uleb(delta)


def advance_line(delta: int) -> bytes:
    return b"\x03" + sleb(delta)


def set_file(number: int) -> bytes:
    return b"\x04" + uleb(number)


def define_file(name: bytes, directory: int) -> bytes:
    operands = b"\x03" + name + b"\0" + uleb(directory) + b"\0\0"
    return b"\x00" + uleb(len(operands)) + operands


def dwarf4_line_program(program: bytes, files: tuple[bytes, ...] = (b"a.c",)) -> bytes:
    """A DWARF 4 line-program unit: clang's header parameters, files in the
    compilation directory."""
    header = bytes([1, 1, 1, 0xFB, 14, 13]) + bytes([0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1])
    header += b"\0"                                                     # no include directories
    header += b"".join(name + b"\0\0\0\0" for name in files) + b"\0"
    body = struct.pack("<HI", 4, len(header)) + header + program
    return struct.pack("<I", len(body)) + body


def with_line_program(program: bytes, files: tuple[bytes, ...] = (b"a.c",)) -> Module:
    """collatz.wasm with ``program`` as the line program of its first compile
    unit (collatz.c's, at .debug_line offset 0; traps.c's unit points past the
    end of the new section and is left out)."""
    return with_section(load("collatz.wasm"), ".debug_line", dwarf4_line_program(program, files))


def test_line_entered_only_by_rows_without_is_stmt() -> None:
    module = load("collatz.wasm")
    func = function(module, "collatz_length")
    body = [instruction.offset for instruction in func.body]
    address = [offset - CODE_START for offset in body]
    program = (
        set_address(func.offset - CODE_START) + advance_line(9) + COPY            # line 10, is_stmt
        + advance_pc(address[3] - (func.offset - CODE_START)) + NEGATE_STMT + advance_line(1) + COPY   # 11
        + advance_pc(address[6] - address[3]) + advance_line(-1) + COPY              # back to 10
        + advance_pc(address[9] - address[6]) + advance_line(1) + COPY               # 11 again
        + advance_pc(address[12] - address[9]) + advance_line(-11) + COPY            # line 0
        + advance_pc(body[-1] + 1 - body[12]) + END_SEQUENCE
    )
    mapping = source_map(module=with_line_program(program))
    assert mapping.files == (f"{COMP_DIR}/a.c",)
    assert mapping.offsets_for_line("a.c", 11) == [body[3], body[9]]
    assert mapping.offsets_for_line("a.c", 10) == [body[0]]
    assert mapping.location(body[7]) == SourceLocation(f"{COMP_DIR}/a.c", 10)
    assert mapping.location(body[12]) is None
    assert mapping.location(body[-1]) is None
    assert mapping.is_statement(body[0])
    assert not mapping.is_statement(body[3])


def test_defined_files_and_unknown_file_numbers() -> None:
    module = load("collatz.wasm")
    func = function(module, "collatz_length")
    start = func.offset - CODE_START
    program = (
        define_file(b"b.c", 0) + set_file(2) + set_address(start) + advance_line(4) + COPY
        + advance_pc(0x20) + set_file(9) + COPY
        + advance_pc(0x20) + set_file(1) + COPY
        + advance_pc(func.body[-1].offset + 1 - CODE_START - start - 0x40) + END_SEQUENCE
    )
    mapping = source_map(module=with_line_program(program))
    assert mapping.location(func.offset) == SourceLocation(f"{COMP_DIR}/b.c", 5)
    assert mapping.location(func.offset + 0x20) is None
    assert mapping.location(func.offset + 0x40) == SourceLocation(f"{COMP_DIR}/a.c", 5)
    assert mapping.files == (f"{COMP_DIR}/b.c", f"{COMP_DIR}/a.c")


def test_a_program_that_breaks_off_keeps_its_complete_sequences() -> None:
    module = load("collatz.wasm")
    first, second = module.funcs[0], module.funcs[1]
    program = b"".join(
        set_address(func.offset - CODE_START) + advance_line(line - 1) + COPY
        + advance_pc(func.body[-1].offset + 1 - func.offset) + END_SEQUENCE
        for func, line in ((first, 30), (second, 40))
    )
    for cut in (len(program) - 1, len(program) - 3, len(program) - 9):
        mapping = source_map(module=with_line_program(program[:cut]))
        assert mapping.location(first.body[0].offset) == SourceLocation(f"{COMP_DIR}/a.c", 30)
        assert mapping.location(second.body[0].offset) is None
    # An over-long LEB128 number ends the program the same way.
    broken = program[: len(program) // 2] + advance_line(0)[:1] + b"\x80" * 20 + b"\x01" + COPY
    mapping = source_map(module=with_line_program(broken))
    assert mapping.location(first.body[0].offset) == SourceLocation(f"{COMP_DIR}/a.c", 30)


def test_dwarf5_header_with_an_endless_count_is_left_out() -> None:
    """A directory count of 2**32 - 1 with an empty entry format: pyelftools
    would build four billion empty entries.  The unit is left out, the other
    unit (traps.c) is kept."""
    module = load("collatz_dwarf5.wasm")
    line_data = section(module, ".debug_line")
    format_count_at = 30            # after the fixed fields and the 12 standard opcode lengths
    assert line_data[format_count_at] == 1
    corrupt = line_data[:format_count_at] + b"\x00\xff\xff\xff\xff\x0f" + line_data[format_count_at + 6:]
    started = time.monotonic()
    mapping = SourceMap.for_module(with_section(module, ".debug_line", corrupt), search_paths=[PROGRAMS])
    assert time.monotonic() - started < 5
    assert mapping is not None
    assert mapping.files == (TRAPS_C,)
    assert mapping.location(FIRST_INSTRUCTIONS["divide"][0]) == FIRST_INSTRUCTIONS["divide"][1]
    assert mapping.location(FIRST_INSTRUCTIONS["collatz_length"][0]) is None


# -- where the code section starts ---------------------------------------------


def read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def padded_function_count(binary: bytes) -> bytes:
    """``binary`` with the code section's function count written in five bytes
    and every code address of its line tables moved to match."""
    pos = 8
    while True:
        section_id = binary[pos]
        size, payload = read_uleb(binary, pos + 1)
        if section_id == 10:
            break
        pos = payload + size
    count, after_count = read_uleb(binary, payload)
    padded_count = bytes([0x80 | count, 0x80, 0x80, 0x80, 0x00])
    growth = len(padded_count) - (after_count - payload)
    new_size = uleb(size + growth)
    assert len(new_size) == payload - pos - 1
    binary = binary[:pos + 1] + new_size + padded_count + binary[after_count:]
    module = decode_module(binary)
    line_data = bytearray(section(module, ".debug_line"))
    at = line_data.find(set_address(0)[:3])
    moved = 0
    while at >= 0:
        (address,) = struct.unpack_from("<I", line_data, at + 3)
        if address != 0xFFFFFFFF:     # the dropped function's tombstone
            struct.pack_into("<I", line_data, at + 3, address + growth)
            moved += 1
        at = line_data.find(set_address(0)[:3], at + 7)
    assert moved == 5
    return binary.replace(section(module, ".debug_line"), bytes(line_data))


def test_padded_code_section_numbers() -> None:
    """The code start is not the shortest encoding's: the function count takes
    five bytes.  The line sequences starting at the functions tell."""
    original = load("collatz.wasm")
    padded = decode_module(padded_function_count((PROGRAMS / "collatz.wasm").read_bytes()))
    assert padded.funcs[0].offset == original.funcs[0].offset + 4
    mapping = source_map(module=padded)
    for func_name, (offset, expected) in FIRST_INSTRUCTIONS.items():
        assert function(padded, func_name).body[0].offset == offset + 4
        assert mapping.location(offset + 4) == expected
    assert mapping.offsets_for_line("traps.c", 10) == [CODE_START + 0x259 + 4]


# -- corrupt DWARF never raises ------------------------------------------------

DEBUG_SECTIONS = (".debug_line", ".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str",
                  ".debug_str_offsets")
MODULES = {name: load(name) for name in MODULE_FILES}


def check_lookups(mapping: SourceMap | None, module: Module) -> None:
    """Every lookup answers, with values of the right kinds."""
    if mapping is None:
        return
    instructions = {instruction.offset for func in module.funcs for instruction in func.body}
    for func in module.funcs:
        for instruction in func.body[:: max(1, len(func.body) // 10)]:
            location = mapping.location(instruction.offset)
            assert isinstance(mapping.is_statement(instruction.offset), bool)
            if location is not None:
                assert location.line > 0
                line = mapping.source_line(location)
                assert line is None or isinstance(line, str)
    for file in mapping.files:
        for line in (1, 5, 10, 20):
            offsets = mapping.offsets_for_line(file, line)
            assert offsets == sorted(offsets)
            assert set(offsets) <= instructions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(MODULE_FILES),
    section_name=st.sampled_from(DEBUG_SECTIONS),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=7)),
                   min_size=1, max_size=6),
)
def test_bit_flips_never_raise(name: str, section_name: str, flips: list[tuple[int, int]]) -> None:
    module = MODULES[name]
    customs = {custom.name for custom in module.customs}
    if section_name not in customs:
        section_name = ".debug_line"
    data = bytearray(section(module, section_name))
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    corrupt = with_section(module, section_name, bytes(data))
    check_lookups(SourceMap.for_module(corrupt, search_paths=[PROGRAMS]), corrupt)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(MODULE_FILES),
    section_name=st.sampled_from((".debug_line", ".debug_info", ".debug_abbrev")),
    keep=st.floats(min_value=0, max_value=1),
    tail=st.binary(max_size=8),
)
def test_truncation_never_raises(name: str, section_name: str, keep: float, tail: bytes) -> None:
    module = MODULES[name]
    data = section(module, section_name)
    corrupt = with_section(module, section_name, data[: int(len(data) * keep)] + tail)
    check_lookups(SourceMap.for_module(corrupt), corrupt)


@settings(max_examples=150, deadline=None)
@given(program=st.binary(max_size=300), files=st.integers(min_value=0, max_value=3))
def test_arbitrary_line_programs_never_raise(program: bytes, files: int) -> None:
    """Random opcodes after a well-formed header: the state machine itself."""
    start = set_address(load("collatz.wasm").funcs[0].offset - CODE_START)
    module = with_line_program(start + program, tuple(b"f%d.c" % number for number in range(files)))
    check_lookups(SourceMap.for_module(module), module)
