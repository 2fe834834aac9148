"""From instruction byte offsets to source lines, for modules compiled with DWARF.

A module built with ``clang -g --target=wasm32`` carries DWARF in custom
sections.  Its line tables (read by ``interp.dwarf.lines``) give, for
ranges of code addresses, the file, line and column they came from, and which
addresses begin a statement.  Following the WebAssembly DWARF convention
(tool-conventions, Debugging.md), a code address is an offset from the start of
the code section's contents — the byte after the section's id and size, where
its function count is.  ``SourceMap`` moves every row to the module offsets the
engine uses (``Instruction.offset``, as ``wasm-objdump -d`` prints), builds a
sorted table once, and answers lookups with ``bisect``.

Where the code section's contents start is not recorded in ``Module``, so it
is derived: the first function's body starts after the function count and its
own size, both LEB128 numbers, whose values are known (the number of functions,
and the body's extent up to its final ``end``).  Producers write them in the
shortest form, but may pad them, so every possible length is tried and the
one under which most line sequences start exactly at a function wins (LLVM
starts one sequence per function, at the function's body), the shortest form
on a tie.

The map reads source files for ``source_line``: the path recorded in the
DWARF, and then, because the compilation directory is usually not on the
machine that runs the module, the file's relative path and its bare name in
each of the ``search_paths`` the caller gives (typically the module file's
folder).  Only regular files are read (a path in a module could name a device
or a pipe), and each once.
"""

from __future__ import annotations

import os
import posixpath
import stat
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from interp.dwarf.lines import LineRow, LineSequence, LineTables, SourceFile, read_line_tables
from interp.syntax.module import Func, Instruction, Module

DEBUG_SECTION_PREFIX = ".debug_"
MAX_SOURCE_BYTES = 16 * 1024 * 1024
"""A recorded path could name any file; larger ones are not taken for source."""
MAX_LEB128_BYTES = 5
"""The longest encoding of a u32, the most a producer can pad a count or size to."""


@dataclass(frozen=True)
class SourceLocation:
    """A place in the source: ``file`` as recorded in the line table (its
    directory and name joined, as ``llvm-dwarfdump`` shows it), 1-based
    ``line``, and ``column`` (0 when the compiler recorded none)."""

    file: str
    line: int
    column: int = 0

    def __str__(self) -> str:
        if self.column:
            return f"{self.file}:{self.line}:{self.column}"
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class _FunctionExtent:
    """The bytes of one function body: ``start`` is ``Func.offset`` (its locals),
    ``end`` is just past its final ``end`` instruction."""

    start: int
    end: int
    body: tuple[Instruction, ...]


class SourceMap:
    """The line tables of one module, addressed by module byte offsets.

    Build it with ``SourceMap.for_module``.  A row with line 0 (code the
    compiler attributes to no line) or naming a file the table lacks gives no
    location.  Rows keep their code-section addresses; ``_code_start`` moves
    them to module offsets.
    """

    def __init__(self, tables: LineTables, code_start: int, functions: list[_FunctionExtent],
                 search_paths: tuple[str, ...]) -> None:
        self._sources = tables.files
        self._code_start = code_start
        self._functions = functions
        self._function_starts = [function.start for function in functions]
        self._search_paths = search_paths
        # Sequences outside every function are code the linker dropped (their
        # addresses are tombstones) or corrupt.
        self._sequences = tuple(
            sequence for sequence in tables.sequences
            if self._function_at(sequence.rows[0].address + code_start) is not None
        )
        starts: list[int] = []
        ends: list[int] = []
        rows: list[LineRow] = []
        statements: list[int] = []
        prologue_ends: list[int] = []
        for sequence in self._sequences:
            offsets = [row.address + code_start for row in sequence.rows]
            offsets.append(sequence.end + code_start)
            for index, row in enumerate(sequence.rows):
                start = offsets[index]
                if start < offsets[index + 1]:  # rows sharing an address: the last one covers it
                    starts.append(start)
                    ends.append(offsets[index + 1])
                    rows.append(row)
                if row.is_stmt:
                    statements.append(start)
                if row.prologue_end:
                    prologue_ends.append(start)
        if any(later < earlier for earlier, later in zip(starts, starts[1:])):
            order = sorted(range(len(starts)), key=starts.__getitem__)
            starts = [starts[index] for index in order]
            ends = [ends[index] for index in order]
            rows = [rows[index] for index in order]
        self._starts = starts
        self._ends = ends
        self._rows = rows
        self._statements = frozenset(statements)
        self._statement_offsets = sorted(self._statements)
        self._prologue_ends = sorted(prologue_ends)
        in_code_order = dict.fromkeys(row.file for row in rows if row.file >= 0)
        self.files: tuple[str, ...] = tuple(self._sources[index].path for index in in_code_order)
        """The source files of the module's code, in the order their code first appears."""
        self._sources_by_path = {source.path: source for source in self._sources}
        self._line_starts: dict[tuple[int, int], list[int]] | None = None
        self._lines_by_path: dict[str, tuple[str, ...] | None] = {}

    @staticmethod
    def for_module(module: Module, search_paths: Iterable[str | os.PathLike[str]] = ()) -> SourceMap | None:
        """The source map of ``module``, or None when it has no usable line
        information (no DWARF, DWARF too corrupt to read, or line tables that
        cover none of its functions).  Corrupt DWARF never raises: what could
        be read is used.  ``search_paths`` are folders to look for source files
        in when the recorded path does not exist (give the module's folder)."""
        sections: dict[str, bytes] = {}
        for custom in module.customs:
            if custom.name.startswith(DEBUG_SECTION_PREFIX):
                sections.setdefault(custom.name, custom.data)
        functions = _function_extents(module.funcs)
        if not functions or ".debug_line" not in sections:
            return None
        tables = read_line_tables(sections)
        if not tables.sequences:
            return None
        code_start = _code_start(len(module.funcs), functions, tables.sequences)
        source_map = SourceMap(tables, code_start, functions, tuple(os.fspath(path) for path in search_paths))
        return source_map if source_map._rows else None

    @property
    def code_start(self) -> int:
        """The module offset of the code section's contents, where DWARF code addresses count from."""
        return self._code_start

    # -- lookups ---------------------------------------------------------------

    def location(self, offset: int) -> SourceLocation | None:
        """Where the code at module byte ``offset`` came from: the row covering
        it (the last row at or before it in its sequence)."""
        index = bisect_right(self._starts, offset) - 1
        if index < 0 or offset >= self._ends[index]:
            return None
        row = self._rows[index]
        if row.file < 0 or row.line <= 0:
            return None
        return SourceLocation(self._sources[row.file].path, row.line, row.column)

    def is_statement(self, offset: int) -> bool:
        """Whether a row marked ``is_stmt`` is at exactly ``offset``: a place
        where a statement begins, where a debugger stops when stepping.  A row
        that is at no instruction (a function's first row is at its locals)
        counts for the first instruction after it, as in ``offsets_for_line``."""
        if offset in self._statements:
            return True
        function = self._function_at(offset)
        if function is None:
            return False
        body = function.body
        index = bisect_left(body, offset, key=_instruction_offset)
        if index == len(body) or body[index].offset != offset:
            return False
        after = body[index - 1].offset if index else function.start - 1
        statements = self._statement_offsets
        position = bisect_right(statements, after)
        return position < len(statements) and statements[position] < offset

    def after_prologue(self, offset: int) -> int | None:
        """Where the body of the function holding ``offset`` begins, past the
        code that sets up its frame: the instruction at the row the compiler
        marked ``prologue_end``, else at the first statement of a line other
        than the function's first.  None when the line table does not say
        (a debugger then stops at the function's first instruction)."""
        function = self._function_at(offset)
        if function is None:
            return None
        index = bisect_left(self._prologue_ends, function.start)
        if index < len(self._prologue_ends) and self._prologue_ends[index] < function.end:
            return self._instruction_at_or_after(self._prologue_ends[index])
        first = self.location(function.body[0].offset) if function.body else None
        position = bisect_left(self._statement_offsets, function.start)
        for statement in self._statement_offsets[position:]:
            if statement >= function.end:
                break
            here = self.location(statement)
            if first is not None and here is not None and (here.file, here.line) != (first.file, first.line):
                return self._instruction_at_or_after(statement)
        return None

    def offsets_for_line(self, file: str, line: int) -> list[int]:
        """The instruction offsets where ``line`` of ``file`` begins, in
        increasing order: the addresses of its ``is_stmt`` rows (or, for a line
        that has none, of the rows that enter it from another line), each moved
        to the first instruction at or after it (a function's first row is at
        its locals, not at an instruction).  ``file`` is the recorded path, or
        a trailing part of it such as the base name."""
        if self._line_starts is None:
            self._line_starts = self._index_line_starts()
        offsets: set[int] = set()
        for index, source in enumerate(self._sources):
            if _path_matches(source, file):
                for address in self._line_starts.get((index, line), ()):
                    instruction = self._instruction_at_or_after(address)
                    if instruction is not None:
                        offsets.add(instruction)
        return sorted(offsets)

    def source_line(self, location: SourceLocation) -> str | None:
        """The text of ``location``'s line (without its line break), or None
        when the file cannot be found or is shorter."""
        if location.file not in self._lines_by_path:
            self._lines_by_path[location.file] = self._read_source(location.file)
        lines = self._lines_by_path[location.file]
        if lines is None or not 1 <= location.line <= len(lines):
            return None
        return lines[location.line - 1]

    # -- building --------------------------------------------------------------

    def _function_at(self, offset: int) -> _FunctionExtent | None:
        index = bisect_right(self._function_starts, offset) - 1
        if index < 0 or offset >= self._functions[index].end:
            return None
        return self._functions[index]

    def _instruction_at_or_after(self, offset: int) -> int | None:
        function = self._function_at(offset)
        if function is None:
            return None
        index = bisect_left(function.body, offset, key=_instruction_offset)
        return function.body[index].offset if index < len(function.body) else None

    def _index_line_starts(self) -> dict[tuple[int, int], list[int]]:
        """(file, line) -> the module offsets where that line begins, per the
        rules of ``offsets_for_line``; built on the first query."""
        code_start = self._code_start
        statements: dict[tuple[int, int], list[int]] = {}
        entries: dict[tuple[int, int], list[int]] = {}
        for sequence in self._sequences:
            previous: tuple[int, int] | None = None
            for row in sequence.rows:
                key = (row.file, row.line)
                if row.is_stmt:
                    statements.setdefault(key, []).append(row.address + code_start)
                if key != previous:
                    entries.setdefault(key, []).append(row.address + code_start)
                previous = key
        for key, offsets in entries.items():
            statements.setdefault(key, offsets)
        return statements

    def _read_source(self, path: str) -> tuple[str, ...] | None:
        source = self._sources_by_path.get(path)
        relative = source.relative if source is not None else path
        candidates = [path] if _is_absolute(path) else []
        name = posixpath.basename(relative)
        for folder in self._search_paths:
            if not _is_absolute(relative):
                candidates.append(os.path.join(folder, relative))
            if name:
                candidates.append(os.path.join(folder, name))
        for candidate in candidates:
            lines = _read_lines(candidate)
            if lines is not None:
                return lines
        return None


def _function_extents(funcs: tuple[Func, ...]) -> list[_FunctionExtent]:
    """The byte extents of the functions that came from a binary, in order."""
    extents = []
    for func in funcs:
        if func.offset >= 0 and func.body and func.body[-1].offset >= 0:
            extents.append(_FunctionExtent(func.offset, func.body[-1].offset + 1, func.body))
    return extents


def _code_start(function_count: int, functions: list[_FunctionExtent],
                sequences: tuple[LineSequence, ...]) -> int:
    """The module offset of the code section's contents (see the module
    docstring for how it is found)."""
    first = functions[0]
    shortest = first.start - _leb128_length(function_count) - _leb128_length(first.end - first.start)
    candidates = [shortest] + [
        first.start - gap for gap in range(2, 2 * MAX_LEB128_BYTES + 1) if first.start - gap != shortest
    ]
    entry_points = {function.start for function in functions}
    sequence_starts = [sequence.rows[0].address for sequence in sequences]

    def functions_started(code_start: int) -> int:
        return sum(1 for address in sequence_starts if address + code_start in entry_points)

    return max(candidates, key=functions_started)


def _leb128_length(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


def _instruction_offset(instruction: Instruction) -> int:
    return instruction.offset


def _is_absolute(path: str) -> bool:
    """Absolute for this system, or in the POSIX form a module built elsewhere records."""
    return posixpath.isabs(path) or os.path.isabs(path)


def _path_matches(source: SourceFile, query: str) -> bool:
    """Whether ``query`` names ``source``: its whole path, or (when relative)
    its last components, ``.`` and ``..`` aside."""
    if source.path == query:
        return True
    wanted = posixpath.normpath(query)
    path = posixpath.normpath(source.path)
    if posixpath.isabs(wanted):
        return path == wanted
    return path == wanted or path.endswith("/" + wanted)


def _read_lines(path: str) -> tuple[str, ...] | None:
    """The lines of the regular file at ``path`` (UTF-8, undecodable bytes
    replaced; lines end at ``\\n`` only, as compilers count them), or None."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as stream:
            data = stream.read(MAX_SOURCE_BYTES + 1)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None
    if len(data) > MAX_SOURCE_BYTES:
        return None
    lines = data.decode("utf-8", errors="replace").split("\n")
    if lines[-1] == "":
        lines.pop()
    return tuple(line.removesuffix("\r") for line in lines)
