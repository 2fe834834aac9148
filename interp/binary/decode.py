"""Decoding the WebAssembly 2.0 binary format (spec chapter 5) into a :class:`Module`.

The decoder follows the reference interpreter (``interpreter/binary/decode.ml``)
closely enough to report the same error for every malformed module of the
testsuite.  In particular it reads sections, function bodies and constant
expressions from the module as a whole and checks the declared sizes
afterwards ("section size mismatch"), instead of confining each to its
declared size: which message a broken module gets depends on that (an
initializer that lacks its ``end`` runs into the next section's id byte and
reports an "illegal opcode", a body that lacks it and ends the module reports
"unexpected end of section or function").

Instructions are decoded by one flat loop driven by the opcode table:
``_SINGLE_BYTE[byte]`` (or ``_PREFIXED[(prefix, sub-opcode)]``) gives the
:class:`Op`, the reader for its immediate kind and its role in block
structure.  Bodies stay flat; the loop only tracks the stack of open blocks
to find the ``end`` that closes the body and to reject a misplaced ``else``.
"""

from __future__ import annotations

import gc
from typing import Callable

from interp.binary.names import SECTION_NAME, decode_names
from interp.binary.reader import (
    TOO_LONG,
    UNEXPECTED_END_OF_SECTION,
    ByteReader,
    decode_length,
    decode_signed,
    decode_unsigned,
)
from interp.errors import MalformedError, UsageError
from interp.syntax.module import (
    Catch,
    CatchKind,
    CustomSection,
    Data,
    Elem,
    Export,
    Expr,
    Func,
    Global,
    Import,
    ImportDesc,
    Instruction,
    Module,
    Names,
    SegmentMode,
)
from interp.syntax.opcodes import OPS, PREFIX_MISC, PREFIX_SIMD, Imm, Op, op as op_named
from interp.syntax.types import (
    ExternKind,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    TagType,
    ValType,
)

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

MAX_LOCALS = 50_000
"""Locals per function this engine accepts (V8's limit): a three-byte body
must not make us allocate billions of entries.  The spec's own limit is
2**32 - 1 in total; both are reported as "too many locals"."""

MAX_LOCALS_PER_MODULE = 4_000_000
"""Expanded local entries one module may make us allocate.  Functions with
identical local declarations share one tuple, so this only binds modules
that declare millions of locals in distinct ways: without it, a megabyte of
five-byte function bodies could ask for hundreds of gigabytes."""

MAX_ALIGN_EXPONENT = 32
"""Alignment exponents from this on are malformed, not merely invalid (the
testsuite's align.wast draws the line here)."""

_EOF = UNEXPECTED_END_OF_SECTION
_MASK32 = 0xFFFF_FFFF
_MASK64 = 0xFFFF_FFFF_FFFF_FFFF

# Section ids (spec 5.5.2) and their required order: data count (12) sits
# between the element (9) and code (10) sections, tags (13) between the
# memory (5) and global (6) sections.
CUSTOM, TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT, CODE, DATA, DATA_COUNT, TAG = range(14)
SECTION_ORDER: tuple[int, ...] = (TYPE, IMPORT, FUNCTION, TABLE, MEMORY, TAG, GLOBAL, EXPORT, START,
                                  ELEMENT, DATA_COUNT, CODE, DATA)
_SECTION_RANK = {section_id: rank for rank, section_id in enumerate(SECTION_ORDER, start=1)}

_VALTYPE_BY_CODE: dict[int, ValType] = {vt.value: vt for vt in ValType}
_REFTYPE_BY_CODE: dict[int, ValType] = {vt.value: vt for vt in ValType if vt.is_ref}
_KIND_BY_CODE: dict[int, ExternKind] = {kind.value: kind for kind in ExternKind}


def _bad_reftype(byte: int, pos: int) -> MalformedError:
    """The reference interpreter reads a type as a signed 7-bit LEB128, so a
    byte with its top bit set is a "too long" integer, not a bad type."""
    if byte >= 0x80:
        return MalformedError(TOO_LONG, pos + 1)
    return MalformedError("malformed reference type", pos)


def _bad_valtype(byte: int, pos: int) -> MalformedError:
    """The reference interpreter routes a value type byte by range to number,
    vector or reference types, and each range has its own message."""
    if 0x71 <= byte < 0x7C:
        return MalformedError("malformed vector type", pos)
    return _bad_reftype(byte, pos)


# --------------------------------------------------------------------------
# Immediate readers: (data, pos) -> (immediate, position after it).  A read
# past the end of ``data`` may raise IndexError; the instruction loop turns
# that into "unexpected end of section or function".

def _read_u32(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    return decode_unsigned(data, pos, 32, _EOF)


def _read_u32_pair(data: bytes, pos: int) -> tuple[tuple[int, int], int]:
    first, pos = _read_u32(data, pos)
    second, pos = _read_u32(data, pos)
    return (first, second), pos


def _read_zero(data: bytes, pos: int) -> tuple[int, int]:
    """The reserved memory index byte of 2.0's memory instructions: exactly
    one 0x00 byte (a long LEB128 zero is malformed too)."""
    if data[pos] != 0:
        raise MalformedError("zero byte expected", pos)
    return 0, pos + 1


def _read_memory_init(data: bytes, pos: int) -> tuple[tuple[int, int], int]:
    data_index, pos = _read_u32(data, pos)
    memory, pos = _read_zero(data, pos)
    return (data_index, memory), pos


def _read_memory_copy(data: bytes, pos: int) -> tuple[tuple[int, int], int]:
    destination, pos = _read_zero(data, pos)
    source, pos = _read_zero(data, pos)
    return (destination, source), pos


def _read_memarg(data: bytes, pos: int) -> tuple[tuple[int, int], int]:
    align, after = _read_u32(data, pos)
    if align >= MAX_ALIGN_EXPONENT:
        raise MalformedError("malformed memop flags", pos)
    offset, after = _read_u32(data, after)
    return (align, offset), after


def _read_br_table(data: bytes, pos: int) -> tuple[tuple[tuple[int, ...], int], int]:
    count, pos = decode_length(data, pos, _EOF)
    labels = []
    for _ in range(count):
        label, pos = _read_u32(data, pos)
        labels.append(label)
    default, pos = _read_u32(data, pos)
    return (tuple(labels), default), pos


def _read_i32(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    if byte < 0x40:
        return byte, pos + 1
    value, pos = decode_signed(data, pos, 32, _EOF)
    return value & _MASK32, pos


def _read_i64(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    if byte < 0x40:
        return byte, pos + 1
    value, pos = decode_signed(data, pos, 64, _EOF)
    return value & _MASK64, pos


def _fixed_width_reader(width: int) -> Callable[[bytes, int], tuple[int, int]]:
    """A reader for ``width`` raw little-endian bytes as an unsigned int
    (float bit patterns, v128 constants, lane indices)."""

    def read(data: bytes, pos: int) -> tuple[int, int]:
        end = pos + width
        if end > len(data):
            raise MalformedError(_EOF, len(data))
        return int.from_bytes(data[pos:end], "little"), end

    return read


_read_f32 = _fixed_width_reader(4)
_read_f64 = _fixed_width_reader(8)
_read_v128 = _fixed_width_reader(16)
_read_lane = _fixed_width_reader(1)


def _read_shuffle(data: bytes, pos: int) -> tuple[tuple[int, ...], int]:
    end = pos + 16
    if end > len(data):
        raise MalformedError(_EOF, len(data))
    return tuple(data[pos:end]), end


def _read_memarg_lane(data: bytes, pos: int) -> tuple[tuple[tuple[int, int], int], int]:
    memarg, pos = _read_memarg(data, pos)
    lane, pos = _read_lane(data, pos)
    return (memarg, lane), pos


def _read_valtype(data: bytes, pos: int) -> tuple[ValType, int]:
    byte = data[pos]
    valtype = _VALTYPE_BY_CODE.get(byte)
    if valtype is None:
        raise _bad_valtype(byte, pos)
    return valtype, pos + 1


def _read_reftype(data: bytes, pos: int) -> tuple[ValType, int]:
    byte = data[pos]
    reftype = _REFTYPE_BY_CODE.get(byte)
    if reftype is None:
        raise _bad_reftype(byte, pos)
    return reftype, pos + 1


def _read_select_types(data: bytes, pos: int) -> tuple[tuple[ValType, ...], int]:
    count, pos = decode_length(data, pos, _EOF)
    types = []
    for _ in range(count):
        valtype, pos = _read_valtype(data, pos)
        types.append(valtype)
    return tuple(types), pos


def _read_blocktype(data: bytes, pos: int) -> tuple[ValType | int | None, int]:
    """0x40 is the empty type, a byte of the form 0b01xxxxxx a value type,
    anything else a non-negative s33 type index (spec 5.4.1)."""
    byte = data[pos]
    if byte == 0x40:
        return None, pos + 1
    if byte & 0xC0 == 0x40:
        return _read_valtype(data, pos)
    index, after = decode_signed(data, pos, 33, _EOF)
    if index < 0:
        raise MalformedError("malformed type index", pos)
    return index, after


_CATCH_KINDS: dict[int, CatchKind] = {kind.value: kind for kind in CatchKind}


def _read_try_table(data: bytes, pos: int) -> tuple[tuple[object, tuple[Catch, ...]], int]:
    """``try_table``'s block type and catch clauses: a kind byte, the tag
    index (``catch`` and ``catch_ref``), the label."""
    blocktype, pos = _read_blocktype(data, pos)
    count, pos = decode_length(data, pos, _EOF)
    catches = []
    for _ in range(count):
        kind = _CATCH_KINDS.get(data[pos])
        if kind is None:
            raise MalformedError("malformed catch clause", pos)
        pos += 1
        tag = None
        if kind.has_tag:
            tag, pos = _read_u32(data, pos)
        label, pos = _read_u32(data, pos)
        catches.append(Catch(kind, tag, label))
    return (blocktype, tuple(catches)), pos


_U32 = _read_u32
"""Marker for the u32 immediates the instruction loop decodes inline."""

_IMMEDIATE_READERS: dict[Imm, Callable[[bytes, int], tuple[object, int]] | None] = {
    Imm.NONE: None,
    Imm.BLOCKTYPE: _read_blocktype,
    Imm.LABEL: _U32,
    Imm.BR_TABLE: _read_br_table,
    Imm.FUNC: _U32,
    Imm.CALL_INDIRECT: _read_u32_pair,
    Imm.LOCAL: _U32,
    Imm.GLOBAL: _U32,
    Imm.TABLE: _U32,
    Imm.ELEM: _U32,
    Imm.DATA: _U32,
    Imm.TABLE_INIT: _read_u32_pair,
    Imm.TABLE_COPY: _read_u32_pair,
    Imm.MEMARG: _read_memarg,
    Imm.MEMORY: _read_zero,
    Imm.MEMORY_INIT: _read_memory_init,
    Imm.MEMORY_COPY: _read_memory_copy,
    Imm.I32: _read_i32,
    Imm.I64: _read_i64,
    Imm.F32: _read_f32,
    Imm.F64: _read_f64,
    Imm.V128: _read_v128,
    Imm.REFTYPE: _read_reftype,
    Imm.SELECT_TYPES: _read_select_types,
    Imm.LANE: _read_lane,
    Imm.SHUFFLE: _read_shuffle,
    Imm.MEMARG_LANE: _read_memarg_lane,
    Imm.TAG: _U32,
    Imm.TYPE: _U32,
    Imm.TRY_TABLE: _read_try_table,
}

# Roles in block structure, and "refers to a data segment" (which needs a
# data count section).  The legacy ``try`` opens a block that ``catch`` and
# ``catch_all`` divide (like ``else``) and ``end`` or ``delegate`` closes.
_PLAIN, _OPENS_BLOCK, _OPENS_IF, _ELSE, _END, _USES_DATA, _OPENS_TRY, _CATCH, _CATCH_ALL, _DELEGATE = range(10)
_IN_BLOCK, _IN_IF, _IN_ELSE, _IN_TRY, _IN_CATCH, _IN_CATCH_ALL = range(6)

OP_END = op_named("end")
OP_REF_FUNC = op_named("ref.func")


def _role(op: Op) -> int:
    if op is OP_END:
        return _END
    if op is op_named("else"):
        return _ELSE
    if op is op_named("if"):
        return _OPENS_IF
    if op is op_named("block") or op is op_named("loop") or op is op_named("try_table"):
        return _OPENS_BLOCK
    if op is op_named("try"):
        return _OPENS_TRY
    if op is op_named("catch"):
        return _CATCH
    if op is op_named("catch_all"):
        return _CATCH_ALL
    if op is op_named("delegate"):
        return _DELEGATE
    if op.imm is Imm.DATA or op.imm is Imm.MEMORY_INIT:
        return _USES_DATA
    return _PLAIN


_Entry = tuple[Op, "Callable[[bytes, int], tuple[object, int]] | None", int]


def _build_dispatch() -> tuple[list[_Entry | None], dict[tuple[int, int], _Entry]]:
    single: list[_Entry | None] = [None] * 256
    prefixed: dict[tuple[int, int], _Entry] = {}
    for op in OPS:
        entry = (op, _IMMEDIATE_READERS[op.imm], _role(op))
        if op.prefix is None:
            single[op.code] = entry
        else:
            prefixed[(op.prefix, op.code)] = entry
    return single, prefixed


_SINGLE_BYTE, _PREFIXED = _build_dispatch()
_PREFIXES = frozenset({PREFIX_MISC, PREFIX_SIMD})


def _prefixed_entry(data: bytes, start: int) -> tuple[_Entry, int]:
    """The table entry of the instruction at ``start`` whose first byte has
    no entry of its own: a prefix and its sub-opcode, or an illegal opcode."""
    prefix = data[start]
    if prefix not in _PREFIXES:
        raise MalformedError(f"illegal opcode {prefix:02x}", start)
    code, pos = _read_u32(data, start + 1)
    entry = _PREFIXED.get((prefix, code))
    if entry is None:
        raise MalformedError(f"illegal opcode {prefix:02x} {code:02x}", start)
    return entry, pos


_new_tuple = tuple.__new__


def decode_expr(data: bytes, pos: int) -> tuple[Expr, int, bool]:
    """Decode instructions from ``data[pos]`` up to and including the ``end``
    that closes the sequence (a function body or a constant expression).

    Returns the flat instruction tuple, the position after it, and whether
    any instruction refers to a data segment (``memory.init``, ``data.drop``).
    """
    single = _SINGLE_BYTE
    u32 = _U32
    instruction = Instruction
    new = _new_tuple
    instrs: list[Instruction] = []
    append = instrs.append
    frames: list[int] = []
    uses_data = False
    try:
        while True:
            start = pos
            entry = single[data[pos]]
            pos += 1
            if entry is None:
                entry, pos = _prefixed_entry(data, start)
            op, reader, role = entry
            if reader is None:
                imm = None
            elif reader is u32:
                byte = data[pos]
                if byte < 0x80:
                    imm = byte
                    pos += 1
                else:
                    imm, pos = decode_unsigned(data, pos, 32, _EOF)
            else:
                imm, pos = reader(data, pos)
            append(new(instruction, (op, imm, start)))
            if role:
                if role == _END:
                    if not frames:
                        return tuple(instrs), pos, uses_data
                    frames.pop()
                elif role == _OPENS_BLOCK:
                    frames.append(_IN_BLOCK)
                elif role == _OPENS_IF:
                    frames.append(_IN_IF)
                elif role == _ELSE:
                    if not frames or frames[-1] != _IN_IF:
                        raise MalformedError("END opcode expected", start)
                    frames[-1] = _IN_ELSE
                elif role == _USES_DATA:
                    uses_data = True
                else:
                    _legacy_try_structure(frames, role, start)
    except IndexError:
        raise MalformedError(_EOF, len(data)) from None


def _legacy_try_structure(frames: list[int], role: int, start: int) -> None:
    """Track a legacy ``try``: ``catch`` clauses, then at most one
    ``catch_all``, then ``end``; or, without clauses, ``delegate``."""
    if role == _OPENS_TRY:
        frames.append(_IN_TRY)
        return
    state = frames[-1] if frames else None
    if role == _DELEGATE:
        if state != _IN_TRY:
            raise MalformedError("END opcode expected", start)
        frames.pop()
        return
    if state != _IN_TRY and state != _IN_CATCH:
        raise MalformedError("END opcode expected", start)
    frames[-1] = _IN_CATCH if role == _CATCH else _IN_CATCH_ALL


# --------------------------------------------------------------------------
# Sections.


class _ModuleDecoder:
    """The state of one decoding run; a section's reader method leaves the
    cursor after the section's content."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reader = ByteReader(data, len(MAGIC) + len(VERSION), _EOF)
        self.types: list[FuncType] = []
        self.imports: list[Import] = []
        self.func_types: list[int] = []
        self.codes: list[tuple[tuple[ValType, ...], Expr, int]] = []
        self.tables: list[TableType] = []
        self.memories: list[MemoryType] = []
        self.tags: list[TagType] = []
        self.globals: list[Global] = []
        self.exports: list[Export] = []
        self.start: int | None = None
        self.elems: list[Elem] = []
        self.datas: list[Data] = []
        self.data_count: int | None = None
        self.customs: list[CustomSection] = []
        self.code_uses_data = False
        self.expanded_locals: dict[tuple[tuple[int, ValType], ...], tuple[ValType, ...]] = {}
        self.locals_allocated = 0

    # -- shared pieces ------------------------------------------------------

    def at_cursor(self, read: Callable[[bytes, int], tuple[object, int]]) -> object:
        """Run one of the single-byte immediate readers at the cursor."""
        reader = self.reader
        if reader.at_end():
            raise MalformedError(_EOF, len(self.data))
        value, reader.pos = read(self.data, reader.pos)
        return value

    def valtype(self) -> ValType:
        return self.at_cursor(_read_valtype)  # type: ignore[return-value]

    def reftype(self) -> ValType:
        return self.at_cursor(_read_reftype)  # type: ignore[return-value]

    def limits(self) -> Limits:
        has_max = self.reader.u1()
        minimum = self.reader.u32()
        maximum = self.reader.u32() if has_max else None
        return Limits(minimum, maximum)

    def table_type(self) -> TableType:
        elem = self.reftype()
        return TableType(self.limits(), elem)

    def tag_type(self) -> TagType:
        """A tag's attribute byte (0: an exception), then its type index."""
        self.at_cursor(_read_zero)
        return TagType(self.reader.u32())

    def global_type(self) -> GlobalType:
        valtype = self.valtype()
        pos = self.reader.pos
        mutability = self.reader.byte()
        if mutability > 1:
            raise MalformedError("malformed mutability", pos)
        return GlobalType(valtype, mutability == 1)

    def expr(self) -> Expr:
        reader = self.reader
        instrs, reader.pos, _ = decode_expr(self.data, reader.pos)
        return instrs

    def extern_kind(self, what: str) -> ExternKind:
        pos = self.reader.pos
        kind = _KIND_BY_CODE.get(self.reader.byte())
        if kind is None:
            raise MalformedError(f"malformed {what} kind", pos)
        return kind

    # -- one method per section ----------------------------------------------

    def type_section(self) -> None:
        reader = self.reader
        for _ in range(reader.length()):
            pos = reader.pos
            form = reader.byte()
            if form != 0x60:
                raise MalformedError(TOO_LONG if form >= 0x80 else "malformed function type", pos)
            params = tuple(self.valtype() for _ in range(reader.length()))
            results = tuple(self.valtype() for _ in range(reader.length()))
            self.types.append(FuncType(params, results))

    def import_section(self) -> None:
        reader = self.reader
        for _ in range(reader.length()):
            module_name = reader.name()
            item_name = reader.name()
            kind = self.extern_kind("import")
            desc: ImportDesc
            if kind is ExternKind.FUNC:
                desc = reader.u32()
            elif kind is ExternKind.TABLE:
                desc = self.table_type()
            elif kind is ExternKind.MEMORY:
                desc = MemoryType(self.limits())
            elif kind is ExternKind.TAG:
                desc = self.tag_type()
            else:
                desc = self.global_type()
            self.imports.append(Import(module_name, item_name, desc))

    def function_section(self) -> None:
        reader = self.reader
        self.func_types = [reader.u32() for _ in range(reader.length())]

    def table_section(self) -> None:
        self.tables = [self.table_type() for _ in range(self.reader.length())]

    def memory_section(self) -> None:
        self.memories = [MemoryType(self.limits()) for _ in range(self.reader.length())]

    def tag_section(self) -> None:
        self.tags = [self.tag_type() for _ in range(self.reader.length())]

    def global_section(self) -> None:
        for _ in range(self.reader.length()):
            global_type = self.global_type()
            self.globals.append(Global(global_type, self.expr()))

    def export_section(self) -> None:
        reader = self.reader
        for _ in range(reader.length()):
            name = reader.name()
            kind = self.extern_kind("export")
            self.exports.append(Export(name, kind, reader.u32()))

    def start_section(self) -> None:
        self.start = self.reader.u32()

    def element_section(self) -> None:
        for _ in range(self.reader.length()):
            self.elems.append(self.element_segment())

    def element_segment(self) -> Elem:
        """The eight encodings of spec 5.5.12: bit 0 passive/declarative
        versus active, bit 1 explicit table index (active) or declarative
        (otherwise), bit 2 expressions instead of function indices."""
        reader = self.reader
        pos = reader.pos
        flags = reader.u32()
        if flags > 7:
            raise MalformedError("malformed elements segment kind", pos)
        table = 0
        offset: Expr | None = None
        if flags & 1:
            mode = SegmentMode.DECLARATIVE if flags & 2 else SegmentMode.PASSIVE
        else:
            mode = SegmentMode.ACTIVE
            if flags & 2:
                table = reader.u32()
            offset = self.expr()
        has_type = flags & 3 != 0
        elem_type = ValType.FUNCREF
        init: tuple[Expr, ...]
        if flags & 4:
            if has_type:
                elem_type = self.reftype()
            init = tuple(self.expr() for _ in range(reader.length()))
        else:
            if has_type:
                kind_pos = reader.pos
                if reader.byte() != 0x00:
                    raise MalformedError("malformed element kind", kind_pos)
            init = tuple(
                (Instruction(OP_REF_FUNC, reader.u32()), Instruction(OP_END))
                for _ in range(reader.length())
            )
        return Elem(elem_type, init, mode, table, offset)

    def data_count_section(self) -> None:
        self.data_count = self.reader.u32()

    def code_section(self) -> None:
        reader = self.reader
        data = self.data
        for _ in range(reader.length()):
            size = reader.length()
            body_start = reader.pos
            local_types = self.locals()
            body, end, uses_data = decode_expr(data, reader.pos)
            if end != body_start + size:
                raise MalformedError("section size mismatch", body_start)
            reader.pos = end
            self.codes.append((local_types, body, body_start))
            self.code_uses_data = self.code_uses_data or uses_data

    def locals(self) -> tuple[ValType, ...]:
        reader = self.reader
        pos = reader.pos
        groups = tuple((reader.u32(), self.valtype()) for _ in range(reader.length()))
        shared = self.expanded_locals.get(groups)
        if shared is not None:
            return shared
        total = sum(count for count, _ in groups)
        self.locals_allocated += total
        if total > MAX_LOCALS or self.locals_allocated > MAX_LOCALS_PER_MODULE:
            raise MalformedError("too many locals", pos)
        expanded: list[ValType] = []
        for count, valtype in groups:
            expanded.extend([valtype] * count)
        shared = self.expanded_locals[groups] = tuple(expanded)
        return shared

    def data_section(self) -> None:
        reader = self.reader
        for _ in range(reader.length()):
            pos = reader.pos
            flags = reader.u32()
            if flags > 2:
                raise MalformedError("malformed data segment kind", pos)
            if flags == 1:
                self.datas.append(Data(reader.bytes(reader.length()), SegmentMode.PASSIVE))
                continue
            memory = reader.u32() if flags == 2 else 0
            offset = self.expr()
            init = reader.bytes(reader.length())
            self.datas.append(Data(init, SegmentMode.ACTIVE, memory, offset))

    def custom_section(self, size: int, after: int) -> None:
        reader = self.reader
        end = reader.pos + size
        name = reader.name()
        payload_start = reader.pos
        # A name running past the section's end makes this skip negative,
        # which is an unexpected end, as in the reference interpreter.
        reader.skip(end - payload_start)
        self.customs.append(CustomSection(name, self.data[payload_start:end], after))

    # -- the module ------------------------------------------------------------

    def run(self) -> Module:
        reader = self.reader
        readers = {
            TYPE: self.type_section, IMPORT: self.import_section, FUNCTION: self.function_section,
            TABLE: self.table_section, MEMORY: self.memory_section, TAG: self.tag_section,
            GLOBAL: self.global_section,
            EXPORT: self.export_section, START: self.start_section, ELEMENT: self.element_section,
            DATA_COUNT: self.data_count_section, CODE: self.code_section, DATA: self.data_section,
        }
        last_rank = 0
        last_id = 0
        while not reader.at_end():
            id_pos = reader.pos
            section_id = reader.byte()
            if section_id != CUSTOM:
                rank = _SECTION_RANK.get(section_id)
                if rank is None:
                    raise MalformedError("malformed section id", id_pos)
                if rank <= last_rank:
                    raise MalformedError("unexpected content after last section", id_pos)
                last_rank, last_id = rank, section_id
            size = reader.length()
            start = reader.pos
            if section_id == CUSTOM:
                self.custom_section(size, last_id)
            else:
                readers[section_id]()
            if reader.pos != start + size:
                raise MalformedError("section size mismatch", start)
        return self.finish()

    def finish(self) -> Module:
        end = len(self.data)
        if len(self.func_types) != len(self.codes):
            raise MalformedError("function and code section have inconsistent lengths", end)
        if self.data_count is not None and self.data_count != len(self.datas):
            raise MalformedError("data count and data section have inconsistent lengths", end)
        if self.data_count is None and self.code_uses_data:
            raise MalformedError("data count section required", end)
        funcs = tuple(
            Func(type_index, local_types, body, offset)
            for type_index, (local_types, body, offset) in zip(self.func_types, self.codes)
        )
        names = next((decode_names(c.data) for c in self.customs if c.name == SECTION_NAME), Names())
        return Module(
            types=tuple(self.types),
            imports=tuple(self.imports),
            funcs=funcs,
            tables=tuple(self.tables),
            memories=tuple(self.memories),
            tags=tuple(self.tags),
            globals=tuple(self.globals),
            exports=tuple(self.exports),
            start=self.start,
            elems=tuple(self.elems),
            datas=tuple(self.datas),
            data_count=self.data_count,
            customs=tuple(self.customs),
            names=names,
        )


def _check_header(data: bytes) -> None:
    if len(data) < 4:
        raise MalformedError("unexpected end", len(data))
    if data[:4] != MAGIC:
        raise MalformedError("magic header not detected", 0)
    if len(data) < 8:
        raise MalformedError("unexpected end", len(data))
    if data[4:8] != VERSION:
        raise MalformedError("unknown binary version", 4)


def decode_module(data: bytes) -> Module:
    """Decode a module binary.  Raises :class:`MalformedError` (and nothing
    else) when ``data`` is not a well-formed WebAssembly 2.0 binary.

    The cyclic garbage collector is paused meanwhile: decoding allocates an
    object per instruction, none of which can form a cycle, and the
    collector's repeated passes over them cost more than the decoding."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UsageError(f"a module binary is bytes, not {type(data).__name__}")
    data = bytes(data)
    _check_header(data)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _ModuleDecoder(data).run()
    finally:
        if collecting:
            gc.enable()
