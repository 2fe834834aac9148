"""DWARF line tables read out of a wasm module's ``.debug_*`` custom sections.

pyelftools decodes the DWARF structure: the compile units, the attributes of
their top DIEs (whatever forms and string sections they use), and the
line-program headers of DWARF 2 to 5 with their directory and file tables.
The line programs themselves are run here (``_run_line_program``), because
pyelftools builds an object and a copy of the whole state per row, about
20 µs a row, where a debug build has hundreds of thousands of rows, and
because a program that breaks off should keep the sequences it completed.
What comes out are plain rows whose file numbers are already resolved to
paths, so the source map never deals with DWARF versions.

The sections are untrusted bytes like the rest of a module.  pyelftools raises
all kinds of exceptions on corrupt DWARF (its own parse errors, but also
``KeyError``, ``ZeroDivisionError``, ``NotImplementedError``, failed
``assert`` statements), so each compile unit is read under one ``except Exception``
and a unit that fails is left out while the others are kept.  One corruption
does not raise but would make pyelftools loop for as long as a LEB128 number
allows — a DWARF 5 header whose directory or file count is huge while its
entries take no bytes — so DWARF 5 headers are checked by
``_header_counts_are_bounded`` before pyelftools reads them.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Mapping
from typing import Any, NamedTuple

from elftools.dwarf.constants import DW_LNE, DW_LNS
from elftools.dwarf.dwarfinfo import DebugSectionDescriptor, DWARFInfo, DwarfConfig
from elftools.dwarf.enums import ENUM_DW_FORM

WASM_DWARF_CONFIG = DwarfConfig(little_endian=True, machine_arch="wasm", default_address_size=4)
"""wasm32 DWARF: little-endian, 4-byte addresses (offsets into the code section)."""

DWARF_INFO_ARGUMENTS: dict[str, str] = {
    ".debug_info": "debug_info_sec",
    ".debug_abbrev": "debug_abbrev_sec",
    ".debug_line": "debug_line_sec",
    ".debug_str": "debug_str_sec",
    ".debug_line_str": "debug_line_str_sec",
    ".debug_str_offsets": "debug_str_offsets_sec",
    ".debug_addr": "debug_addr_sec",
    ".debug_ranges": "debug_ranges_sec",
    ".debug_rnglists": "debug_rnglists_sec",
    ".debug_loc": "debug_loc_sec",
    ".debug_loclists": "debug_loclists_sec",
    ".debug_aranges": "debug_aranges_sec",
    ".debug_pubnames": "debug_pubnames_sec",
    ".debug_pubtypes": "debug_pubtypes_sec",
    ".debug_types": "debug_types_sec",
    ".debug_frame": "debug_frame_sec",
}
"""Which custom section feeds which ``DWARFInfo`` argument; the ones it needs for
line tables are info, abbrev, line and the string sections, the others are
passed along so that attribute forms pointing into them decode."""

NEEDED_SECTIONS = (".debug_info", ".debug_abbrev", ".debug_line")
"""Without these there are no line tables: a line program is found through the
``DW_AT_stmt_list`` of its compile unit."""


class SourceFile(NamedTuple):
    """A file of a line table.  ``path`` is its directory joined with its name
    (under the compilation directory when relative), as ``llvm-dwarfdump``
    shows it; ``relative`` is the same without the compilation directory, which
    is what to look for elsewhere when the compilation directory is not on
    this machine (it is absolute when the file was named absolutely)."""

    path: str
    relative: str


class LineRow(NamedTuple):
    """One row of a line table.  ``address`` is relative to the start of the
    code section's contents (the wasm DWARF convention); ``file`` indexes
    ``LineTables.files``, -1 when the row names a file the table does not have."""

    address: int
    file: int
    line: int
    column: int
    is_stmt: bool
    prologue_end: bool = False  # where a debugger stops when a breakpoint names the function


class LineSequence(NamedTuple):
    """Rows of contiguous code, in the order of the line program; the last row
    covers the code up to ``end`` (the address of ``DW_LNE_end_sequence``)."""

    rows: tuple[LineRow, ...]
    end: int


class LineTables(NamedTuple):
    """The line tables of every compile unit that could be read, with the files
    of all of them in one table (the same path appears once)."""

    files: tuple[SourceFile, ...]
    sequences: tuple[LineSequence, ...]


NO_LINE_TABLES = LineTables((), ())


def read_line_tables(sections: Mapping[str, bytes]) -> LineTables:
    """Decode the line programs of every compile unit in ``sections`` (custom
    section name -> contents).  Never raises: units that cannot be read are
    left out, a line program that breaks off keeps its complete sequences, and
    what remains may be nothing."""
    if not all(name in sections for name in NEEDED_SECTIONS):
        return NO_LINE_TABLES
    try:
        info = dwarf_info(sections)
        units = info.iter_CUs()
    except Exception:  # pyelftools on corrupt DWARF: see the module docstring
        return NO_LINE_TABLES
    files = _FileTable()
    sequences: list[LineSequence] = []
    read_programs: set[int] = set()
    line_data = sections[".debug_line"]
    while True:
        try:
            unit = next(units)
        except StopIteration:
            break
        except Exception:  # the units after a corrupt one cannot be located
            break
        try:
            sequences.extend(_read_unit(info, unit, line_data, read_programs, files))
        except Exception:
            continue
    return LineTables(tuple(files.files), tuple(sequences))


def dwarf_info(sections: Mapping[str, bytes]) -> DWARFInfo:
    """pyelftools' view of the DWARF in ``sections`` (custom section name ->
    contents), for wasm32."""
    descriptors: dict[str, DebugSectionDescriptor | None] = {
        argument: None for argument in DWARF_INFO_ARGUMENTS.values()
    }
    descriptors.update(eh_frame_sec=None, debug_sup_sec=None, gnu_debugaltlink_sec=None)
    for name, argument in DWARF_INFO_ARGUMENTS.items():
        data = sections.get(name)
        if data is not None:
            descriptors[argument] = DebugSectionDescriptor(io.BytesIO(data), name, None, len(data), 0)
    return DWARFInfo(config=WASM_DWARF_CONFIG, **descriptors)


def _read_unit(info: DWARFInfo, unit: Any, line_data: bytes, read_programs: set[int],
               files: _FileTable) -> list[LineSequence]:
    """The line sequences of one compile unit (none when it has no line
    program, or one already read: two units sharing a program would give every
    row twice)."""
    attributes = unit.get_top_DIE().attributes
    stmt_list = attributes.get("DW_AT_stmt_list")
    if stmt_list is None or not isinstance(stmt_list.value, int) or stmt_list.value in read_programs:
        return []
    read_programs.add(stmt_list.value)
    if not _header_counts_are_bounded(line_data, stmt_list.value):
        return []
    program = info.line_program_for_CU(unit)
    if program is None:
        return []
    resolver = _FileResolver(program.header, _text(_attribute_value(attributes, "DW_AT_comp_dir")), files)
    end = min(program.program_end_offset, len(line_data))
    return _run_line_program(line_data, program.program_start_offset, end, program.header, resolver)


class _FileTable:
    """The files of all units, each path once, in the order they were met."""

    def __init__(self) -> None:
        self.files: list[SourceFile] = []
        self.indices: dict[str, int] = {}

    def index(self, source: SourceFile) -> int:
        index = self.indices.get(source.path)
        if index is None:
            index = self.indices[source.path] = len(self.files)
            self.files.append(source)
        return index


class _FileResolver:
    """Turns the file numbers of one line program into indices of the file
    table, resolving each number once.  DWARF 5 numbers files from 0 and its
    directory 0 is the compilation directory; earlier versions number files
    from 1, and their directory 0 means the compilation directory."""

    def __init__(self, header: Any, comp_dir: str, files: _FileTable) -> None:
        self.version: int = header.version
        self.entries: list[tuple[str, Any]] = [
            (_text(entry.get("name")), entry.get("dir_index")) for entry in header.file_entry
        ]
        self.directories = tuple(_text(directory) for directory in header.include_directory)
        if self.version >= 5 and not comp_dir and self.directories:
            comp_dir = self.directories[0]
        self.comp_dir = comp_dir
        self.files = files
        self.indices: dict[int, int] = {}

    def define(self, name: str, directory_index: int) -> None:
        """``DW_LNE_define_file`` (DWARF 2 to 4): one more file, numbered next."""
        self.entries.append((name, directory_index))

    def __call__(self, number: int) -> int:
        index = self.indices.get(number)
        if index is None:
            source = self.source_file(number)
            index = self.indices[number] = -1 if source is None else self.files.index(source)
        return index

    def source_file(self, number: int) -> SourceFile | None:
        position = number if self.version >= 5 else number - 1
        if not 0 <= position < len(self.entries):
            return None
        name, directory_index = self.entries[position]
        if not name:
            return None
        directory = ""
        if isinstance(directory_index, int) and directory_index > 0:
            position = directory_index if self.version >= 5 else directory_index - 1
            if position < len(self.directories):
                directory = self.directories[position]
        relative = posixpath.join(directory, name)
        path = posixpath.join(self.comp_dir, relative) if self.comp_dir else relative
        return SourceFile(path, relative)


def _run_line_program(data: bytes, pos: int, end: int, header: Any,
                      resolve_file: _FileResolver) -> list[LineSequence]:
    """Run the line-number state machine (DWARF 5, section 6.2.5) over the
    program in ``data[pos:end]`` and return its sequences.  A program that
    breaks off (an operand past the data, a corrupt number) keeps the
    sequences it completed; an operand running past ``end`` only reads bytes
    of the next unit, and the loop stops there.  The special opcodes, most of any program, are two table
    lookups; only the registers that make a row are kept."""
    minimum_length: int = header["minimum_instruction_length"]
    line_range: int = header["line_range"]
    opcode_base: int = header["opcode_base"]
    line_base: int = header["line_base"]
    default_is_stmt = bool(header["default_is_stmt"])
    operand_counts: list[int] = list(header["standard_opcode_lengths"])
    if line_range == 0 or opcode_base == 0 or header["maximum_operations_per_instruction"] > 1:
        # Special opcodes would divide by zero; VLIW op-index addressing is
        # something no wasm producer uses.
        return []
    address_advance = [0] * 256
    line_advance = [0] * 256
    for opcode in range(opcode_base, 256):
        address_advance[opcode] = (opcode - opcode_base) // line_range * minimum_length
        line_advance[opcode] = line_base + (opcode - opcode_base) % line_range
    const_add_pc = (255 - opcode_base) // line_range * minimum_length
    first_file = resolve_file(1)
    sequences: list[LineSequence] = []
    rows: list[LineRow] = []
    address, file, line, column, is_stmt = 0, first_file, 1, 0, default_is_stmt
    prologue_end = False
    try:
        while pos < end:
            opcode = data[pos]
            pos += 1
            if opcode >= opcode_base:
                address += address_advance[opcode]
                line += line_advance[opcode]
                rows.append(LineRow(address, file, line, column, is_stmt, prologue_end))
                prologue_end = False
            elif opcode == _EXTENDED:
                length, pos = _uleb128(data, pos)
                operands_end = pos + length
                if operands_end > end:
                    break
                if length:
                    sub_opcode = data[pos]
                    if sub_opcode == _END_SEQUENCE:
                        if rows:
                            sequences.append(LineSequence(tuple(rows), address))
                            rows = []
                        address, file, line, column, is_stmt = 0, first_file, 1, 0, default_is_stmt
                    elif sub_opcode == _SET_ADDRESS:
                        address = int.from_bytes(data[pos + 1:operands_end], "little")
                    elif sub_opcode == _DEFINE_FILE:
                        name_end = data.find(b"\0", pos + 1, operands_end)
                        if name_end >= 0:
                            directory_index, _ = _uleb128(data, name_end + 1)
                            resolve_file.define(_text(data[pos + 1:name_end]), directory_index)
                pos = operands_end
            elif opcode == _SET_COLUMN:
                column, pos = _uleb128(data, pos)
            elif opcode == _ADVANCE_PC:
                operand, pos = _uleb128(data, pos)
                address += operand * minimum_length
            elif opcode == _ADVANCE_LINE:
                operand, pos = _sleb128(data, pos)
                line += operand
            elif opcode == _COPY:
                rows.append(LineRow(address, file, line, column, is_stmt, prologue_end))
                prologue_end = False
            elif opcode == _NEGATE_STMT:
                is_stmt = not is_stmt
            elif opcode == _SET_FILE:
                operand, pos = _uleb128(data, pos)
                file = resolve_file(operand)
            elif opcode == _CONST_ADD_PC:
                address += const_add_pc
            elif opcode == _SET_PROLOGUE_END:
                prologue_end = True
            elif opcode == _FIXED_ADVANCE_PC:
                address += data[pos] | data[pos + 1] << 8
                pos += 2
            elif opcode in _NO_OPERAND_OPCODES:
                pass
            else:  # set_isa, and opcodes of later versions or vendors: skip their operands
                for _ in range(operand_counts[opcode - 1]):
                    _, pos = _uleb128(data, pos)
    except (IndexError, _Unreadable):
        pass
    # Rows after the last end_sequence belong to no sequence: the program broke off.
    return sequences


# The opcodes as plain ints: comparing with enum members costs an attribute lookup each time.
_EXTENDED = 0
_COPY = int(DW_LNS.copy)
_ADVANCE_PC = int(DW_LNS.advance_pc)
_ADVANCE_LINE = int(DW_LNS.advance_line)
_SET_FILE = int(DW_LNS.set_file)
_SET_COLUMN = int(DW_LNS.set_column)
_NEGATE_STMT = int(DW_LNS.negate_stmt)
_CONST_ADD_PC = int(DW_LNS.const_add_pc)
_FIXED_ADVANCE_PC = int(DW_LNS.fixed_advance_pc)
_SET_PROLOGUE_END = int(DW_LNS.set_prologue_end)
_NO_OPERAND_OPCODES = frozenset(int(opcode) for opcode in (DW_LNS.set_basic_block, DW_LNS.set_epilogue_begin))
_END_SEQUENCE = int(DW_LNE.end_sequence)
_SET_ADDRESS = int(DW_LNE.set_address)
_DEFINE_FILE = int(DW_LNE.define_file)
_MAX_LEB128_BYTES = 10
"""Longer numbers (more than 64 bits) are corrupt; bounding them also keeps a
run of continuation bytes from building a huge integer bit by bit."""


def _uleb128(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 number at ``pos`` and the position after it;
    IndexError past the data, ``_Unreadable`` when it is too long."""
    result = 0
    for shift in range(0, 7 * _MAX_LEB128_BYTES, 7):
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
    raise _Unreadable


def _sleb128(data: bytes, pos: int) -> tuple[int, int]:
    """A signed LEB128 number at ``pos`` and the position after it."""
    result, after = _uleb128(data, pos)
    bits = 7 * (after - pos)
    if result >> (bits - 1) & 1:
        result -= 1 << bits
    return result, after


def _attribute_value(attributes: Mapping[str, Any], name: str) -> Any:
    attribute = attributes.get(name)
    return None if attribute is None else attribute.value


def _text(value: Any) -> str:
    """A DWARF string as text; paths need not be UTF-8, and whatever is not
    becomes U+FFFD rather than something that fails when printed."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return ""


# -- the DWARF 5 header check ------------------------------------------------

_FORM_SIZES: dict[int, int] = {
    ENUM_DW_FORM["DW_FORM_data1"]: 1,
    ENUM_DW_FORM["DW_FORM_data2"]: 2,
    ENUM_DW_FORM["DW_FORM_data4"]: 4,
    ENUM_DW_FORM["DW_FORM_data8"]: 8,
    ENUM_DW_FORM["DW_FORM_data16"]: 16,
    ENUM_DW_FORM["DW_FORM_strx1"]: 1,
    ENUM_DW_FORM["DW_FORM_strx2"]: 2,
    ENUM_DW_FORM["DW_FORM_strx3"]: 3,
    ENUM_DW_FORM["DW_FORM_strx4"]: 4,
}
_OFFSET_FORMS = frozenset(ENUM_DW_FORM[name] for name in ("DW_FORM_line_strp", "DW_FORM_strp", "DW_FORM_strp_sup"))
_LEB128_FORMS = frozenset(ENUM_DW_FORM[name] for name in ("DW_FORM_udata", "DW_FORM_strx"))
_STRING_FORM = ENUM_DW_FORM["DW_FORM_string"]
_BLOCK_FORM = ENUM_DW_FORM["DW_FORM_block"]
class _Unreadable(Exception):
    """A LEB128 number longer than 64 bits, a header running past the data, or
    a form the header check does not know: the program or header is corrupt."""


class _HeaderReader:
    """A cursor over a line-program header; reading past the data raises
    IndexError or ``_Unreadable``."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def fixed(self, size: int) -> int:
        end = self.pos + size
        if end > len(self.data):
            raise _Unreadable
        value = int.from_bytes(self.data[self.pos:end], "little")
        self.pos = end
        return value

    def skip(self, size: int) -> None:
        if size < 0 or self.pos + size > len(self.data):
            raise _Unreadable
        self.pos += size

    def uleb128(self) -> int:
        value, self.pos = _uleb128(self.data, self.pos)
        return value

    def form(self, form: int, offset_size: int) -> None:
        """Skip one value of ``form``: the forms DWARF 5 allows in line-table
        headers (section 6.2.4.1), each of which takes at least one byte."""
        size = _FORM_SIZES.get(form)
        if size is not None:
            self.skip(size)
        elif form in _OFFSET_FORMS:
            self.skip(offset_size)
        elif form in _LEB128_FORMS:
            self.uleb128()
        elif form == _STRING_FORM:
            end = self.data.find(b"\0", self.pos)
            if end < 0:
                raise _Unreadable
            self.pos = end + 1
        elif form == _BLOCK_FORM:
            self.skip(self.uleb128())
        else:
            raise _Unreadable


def _header_counts_are_bounded(data: bytes, offset: int) -> bool:
    """Whether the directory and file counts of the DWARF 5 line-program header
    at ``offset`` fit in the header (each entry takes at least a byte) and its
    entries use the forms line tables allow; always true for earlier versions,
    whose lists end with a terminator instead of a count."""
    reader = _HeaderReader(data, offset)
    try:
        offset_size = 4
        if reader.fixed(4) == 0xFFFFFFFF:
            reader.fixed(8)
            offset_size = 8
        if reader.fixed(2) < 5:
            return True
        reader.skip(2)  # address_size, segment_selector_size
        header_length = reader.fixed(offset_size)
        header_end = reader.pos + header_length
        reader.skip(5)  # minimum_instruction_length ... line_range
        reader.skip(reader.fixed(1) - 1)  # opcode_base, then standard_opcode_lengths
        for _ in ("directories", "file names"):
            forms = []
            for _ in range(reader.fixed(1)):
                reader.uleb128()  # content type
                forms.append(reader.uleb128())
            count = reader.uleb128()
            if count > header_end - reader.pos or (count and not forms):
                return False
            for _ in range(count):
                for form in forms:
                    reader.form(form, offset_size)
        return True
    except (IndexError, _Unreadable):
        return False
