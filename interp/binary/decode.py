"""Decoding the WebAssembly binary format (spec chapter 5) into a :class:`Module`.

The decoder follows the reference interpreter (``interpreter/binary/decode.ml``)
closely enough to report the same error for every malformed module of the
testsuite.  In particular it reads sections, function bodies and constant
expressions from the module as a whole and checks the declared sizes
afterwards ("section size mismatch"), instead of confining each to its
declared size: which message a broken module gets depends on that (an
initializer that lacks its ``end`` runs into the next section's id byte and
reports an "illegal opcode", a body that lacks it and ends the module reports
"unexpected end of section or function").

Instructions are decoded by one flat loop driven by the opcode table: the
dispatch tables (``_dispatch``: by first byte, or by ``(prefix,
sub-opcode)``) give the :class:`Op`, the reader for its immediate kind and
its role in block structure.  Bodies stay flat; the loop only tracks the stack of open blocks
to find the ``end`` that closes the body and to reject a misplaced ``else``.

Where features change the encoding (``interp.features``: memory indices in
memory instructions with multi-memory, 64-bit limits and offsets with
memory64, page sizes in limits with custom-page-sizes), the decoder reads as
the features it is given say; the dispatch tables are built once per set of
features.
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Callable, Protocol, overload

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
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.module import (
    Catch,
    CatchKind,
    CustomSection,
    CompactDatas,
    Data,
    DataEntry,
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
from interp.syntax.opcodes import OPS, PREFIX_GC, PREFIX_MISC, PREFIX_SIMD, Imm, MemArg, Op, introduced_by, op as op_named
from interp.syntax.types import (
    PAGE_SIZE,
    ArrayType,
    DefType,
    ExternKind,
    FieldType,
    I32,
    I64,
    FuncType,
    GlobalType,
    HeapKind,
    HeapType,
    Limits,
    MemoryType,
    PackedType,
    StorageType,
    StructType,
    SubType,
    TableType,
    TagType,
    ValType,
    ref_type,
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
"""Without multi-memory, alignment exponents from this on are malformed, not
merely invalid (the 2.0 testsuite's align.wast draws the line here)."""

MEMARG_HAS_MEMORY = 0x40
"""With multi-memory, the memarg flag saying a memory index follows; flags
from 0x80 on are malformed, the low six bits are the alignment exponent."""

LIMITS_HAS_MAX, LIMITS_ADDRESS_I64, LIMITS_PAGE_SIZE = 0x01, 0x04, 0x08
"""The limits flags: a maximum follows; the address type is i64 (memory64);
a page size follows (custom-page-sizes, memories only)."""

MAX_PAGE_SIZE_EXPONENT = 63
"""A page size exponent above this is no page size at all (malformed); the
valid ones are those of ``PAGE_SIZES`` (a validation rule)."""

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

_VALTYPE_BY_CODE: dict[int, ValType] = {vt.code: vt for vt in ValType.all_simple()}  # type: ignore[attr-defined]
_REFTYPE_BY_CODE: dict[int, ValType] = {code: vt for code, vt in _VALTYPE_BY_CODE.items() if vt.is_ref}
_KIND_BY_CODE: dict[int, ExternKind] = {kind.value: kind for kind in ExternKind}
REF_NULL_PREFIX = 0x63
"""``(ref null HEAPTYPE)``; 0x64 is ``(ref HEAPTYPE)``."""
REF_PREFIX = 0x64
FUNC_FORM, STRUCT_FORM, ARRAY_FORM = 0x60, 0x5F, 0x5E
SUB_FORM, SUB_FINAL_FORM, REC_FORM = 0x50, 0x4F, 0x4E
_PACKED_BY_CODE: dict[int, PackedType] = {packed.code: packed for packed in PackedType}


def _bad_reftype(byte: int, pos: int) -> MalformedError:
    """The reference interpreter reads a type as a signed 7-bit LEB128, so a
    byte with its top bit set is a "too long" integer, not a bad type."""
    if byte >= 0x80:
        return MalformedError(TOO_LONG, pos + 1)
    return MalformedError("malformed reference type", pos)


def _bad_valtype(byte: int, pos: int) -> MalformedError:
    """The reference interpreter routes a value type byte by range to number,
    vector or reference types, and each range has its own message."""
    if 0x75 <= byte < 0x7C:
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


def _memory_pair_reader(read_memory: Callable[[bytes, int], tuple[int, int]]) -> Callable:
    def read_memory_copy(data: bytes, pos: int) -> tuple[tuple[int, int], int]:
        destination, pos = read_memory(data, pos)
        source, pos = read_memory(data, pos)
        return (destination, source), pos
    return read_memory_copy


def _memory_init_reader(read_memory: Callable[[bytes, int], tuple[int, int]]) -> Callable:
    def read_memory_init(data: bytes, pos: int) -> tuple[tuple[int, int], int]:
        data_index, pos = _read_u32(data, pos)
        memory, pos = read_memory(data, pos)
        return (data_index, memory), pos
    return read_memory_init


def _read_u64(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    return decode_unsigned(data, pos, 64, _EOF)


_new_memarg = tuple.__new__


def _read_memarg(data: bytes, pos: int) -> tuple[MemArg, int]:
    """WebAssembly 2.0's memarg: alignment exponent and u32 offset."""
    align, after = _read_u32(data, pos)
    if align >= MAX_ALIGN_EXPONENT:
        raise MalformedError("malformed memop flags", pos)
    offset, after = _read_u32(data, after)
    return _new_memarg(MemArg, (align, offset, 0)), after


def _memarg_reader(multi_memory: bool, read_offset: Callable[[bytes, int], tuple[int, int]]) -> Callable:
    """The memarg of the given features: with multi-memory, flags whose bit 6
    says a memory index follows; the offset a u32, or a u64 with memory64."""
    if not multi_memory and read_offset is _read_u32:
        return _read_memarg

    def read_memarg(data: bytes, pos: int) -> tuple[MemArg, int]:
        if pos + 1 < len(data):  # the usual: one byte of alignment, then a one-byte offset
            flags, offset = data[pos], data[pos + 1]
            if flags < MAX_ALIGN_EXPONENT and offset < 0x80:
                return _new_memarg(MemArg, (flags, offset, 0)), pos + 2
        flags, after = _read_u32(data, pos)
        memory = 0
        if multi_memory:
            if flags >= 2 * MEMARG_HAS_MEMORY:
                raise MalformedError("malformed memop flags", pos)
            if flags & MEMARG_HAS_MEMORY:
                memory, after = _read_u32(data, after)
                flags -= MEMARG_HAS_MEMORY
        elif flags >= MAX_ALIGN_EXPONENT:
            raise MalformedError("malformed memop flags", pos)
        offset, after = read_offset(data, after)
        return _new_memarg(MemArg, (flags, offset, memory)), after
    return read_memarg


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


def _memarg_lane_reader(read_memarg: Callable[[bytes, int], tuple[MemArg, int]]) -> Callable:
    def read_memarg_lane(data: bytes, pos: int) -> tuple[tuple[MemArg, int], int]:
        memarg, pos = read_memarg(data, pos)
        lane, pos = _read_lane(data, pos)
        return (memarg, lane), pos
    return read_memarg_lane


def _read_heap_type(data: bytes, pos: int) -> tuple[HeapType, int]:
    """An abstract heap type (one byte of the form 0b01xxxxxx, a negative
    s33) or a type index (a non-negative s33)."""
    byte = data[pos]
    if byte & 0xC0 == 0x40:
        kind = HeapKind.from_code(byte)
        if kind is None:
            raise MalformedError("malformed heap type", pos)
        return kind, pos + 1
    index, after = decode_signed(data, pos, 33, _EOF)
    if index < 0:
        raise MalformedError("malformed heap type", pos)
    return index, after


def _read_type(data: bytes, pos: int, by_code: dict[int, ValType],
               bad: Callable[[int, int], MalformedError]) -> tuple[ValType, int]:
    """A type of one byte of ``by_code``, or a reference type written with
    the 0x63 (nullable) or 0x64 prefix and its heap type."""
    byte = data[pos]
    valtype = by_code.get(byte)
    if valtype is not None:
        return valtype, pos + 1
    if byte == REF_NULL_PREFIX or byte == REF_PREFIX:
        heap, after = _read_heap_type(data, pos + 1)
        return ref_type(byte == REF_NULL_PREFIX, heap), after
    raise bad(byte, pos)


def _read_valtype(data: bytes, pos: int) -> tuple[ValType, int]:
    return _read_type(data, pos, _VALTYPE_BY_CODE, _bad_valtype)


def _read_reftype(data: bytes, pos: int) -> tuple[ValType, int]:
    return _read_type(data, pos, _REFTYPE_BY_CODE, _bad_reftype)


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


def _read_cast(data: bytes, pos: int) -> tuple[ValType, int]:
    heap, pos = _read_heap_type(data, pos)
    return ref_type(False, heap), pos


def _read_cast_null(data: bytes, pos: int) -> tuple[ValType, int]:
    heap, pos = _read_heap_type(data, pos)
    return ref_type(True, heap), pos


def _read_br_on_cast(data: bytes, pos: int) -> tuple[tuple[int, ValType, ValType], int]:
    """A flags byte (bit 0: the source type is nullable, bit 1: the target
    type is), the label, the two heap types."""
    flags = data[pos]
    if flags > 3:
        raise MalformedError("malformed br_on_cast flags", pos)
    label, pos = _read_u32(data, pos + 1)
    source, pos = _read_heap_type(data, pos)
    target, pos = _read_heap_type(data, pos)
    return (label, ref_type(bool(flags & 1), source), ref_type(bool(flags & 2), target)), pos


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
    Imm.MEMORY_INIT: _memory_init_reader(_read_zero),
    Imm.MEMORY_COPY: _memory_pair_reader(_read_zero),
    Imm.I32: _read_i32,
    Imm.I64: _read_i64,
    Imm.F32: _read_f32,
    Imm.F64: _read_f64,
    Imm.V128: _read_v128,
    Imm.HEAPTYPE: _read_heap_type,
    Imm.TYPE: _U32,
    Imm.FIELD: _read_u32_pair,
    Imm.ARRAY_FIXED: _read_u32_pair,
    Imm.ARRAY_DATA: _read_u32_pair,
    Imm.ARRAY_ELEM: _read_u32_pair,
    Imm.ARRAY_COPY: _read_u32_pair,
    Imm.CAST: _read_cast,
    Imm.CAST_NULL: _read_cast_null,
    Imm.BR_ON_CAST: _read_br_on_cast,
    Imm.SELECT_TYPES: _read_select_types,
    Imm.LANE: _read_lane,
    Imm.SHUFFLE: _read_shuffle,
    Imm.MEMARG_LANE: _memarg_lane_reader(_read_memarg),
    Imm.TAG: _U32,
    Imm.TRY_TABLE: _read_try_table,
}
"""The readers of WebAssembly 2.0; ``_readers`` adapts them to the features."""


def _readers(features: frozenset[Feature]) -> dict[Imm, Callable[[bytes, int], tuple[object, int]] | None]:
    """The immediate readers of the given features: with multi-memory, memory
    indices where 2.0 reserves a zero byte; with memory64, u64 offsets."""
    readers = dict(_IMMEDIATE_READERS)
    multi_memory = Feature.MULTI_MEMORY in features
    read_memarg = _memarg_reader(multi_memory, _read_u64 if Feature.MEMORY64 in features else _read_u32)
    readers[Imm.MEMARG] = read_memarg
    readers[Imm.MEMARG_LANE] = _memarg_lane_reader(read_memarg)
    if multi_memory:
        readers[Imm.MEMORY] = _U32
        readers[Imm.MEMORY_INIT] = _memory_init_reader(_read_u32)
        readers[Imm.MEMORY_COPY] = _memory_pair_reader(_read_u32)
    return readers

# Roles in block structure, and "refers to a data segment" (which needs a
# data count section).  The legacy ``try`` opens a block that ``catch`` and
# ``catch_all`` divide (like ``else``) and ``end`` or ``delegate`` closes.
_PLAIN, _OPENS_BLOCK, _OPENS_IF, _ELSE, _END, _USES_DATA, _OPENS_TRY, _CATCH, _CATCH_ALL, _DELEGATE = range(10)
_IN_BLOCK, _IN_IF, _IN_ELSE, _IN_TRY, _IN_CATCH, _IN_CATCH_ALL = range(6)

OP_END = op_named("end")
OP_REF_FUNC = op_named("ref.func")
FUNC_INDEX_ELEM_TYPE = ref_type(False, HeapKind.FUNC)
"""The type of an element segment given as function indices: ``(ref func)``."""


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
    if op.imm is Imm.DATA or op.imm is Imm.MEMORY_INIT or op.imm is Imm.ARRAY_DATA:
        return _USES_DATA
    return _PLAIN


_Entry = tuple[Op, "Callable[[bytes, int], tuple[object, int]] | None", int]
_Dispatch = tuple[list["_Entry | None"], dict[tuple[int, int], "_Entry"]]


@cache
def _dispatch(features: frozenset[Feature]) -> _Dispatch:
    """The instruction tables of a feature set: by first byte, and by
    ``(prefix, sub-opcode)``."""
    readers = _readers(features)
    single: list[_Entry | None] = [None] * 256
    prefixed: dict[tuple[int, int], _Entry] = {}
    for op in OPS:
        feature = introduced_by(op)
        if feature is not None and feature not in features:
            continue
        entry = (op, readers[op.imm], _role(op))
        if op.prefix is None:
            single[op.code] = entry
        else:
            prefixed[(op.prefix, op.code)] = entry
    return single, prefixed


_PREFIXES = frozenset({PREFIX_GC, PREFIX_MISC, PREFIX_SIMD})


def _prefixed_entry(data: bytes, start: int, prefixed: dict[tuple[int, int], _Entry]) -> tuple[_Entry, int]:
    """The table entry of the instruction at ``start`` whose first byte has
    no entry of its own: a prefix and its sub-opcode, or an illegal opcode."""
    prefix = data[start]
    if prefix not in _PREFIXES:
        raise MalformedError(f"illegal opcode {prefix:02x}", start)
    code, pos = _read_u32(data, start + 1)
    entry = prefixed.get((prefix, code))
    if entry is None:
        raise MalformedError(f"illegal opcode {prefix:02x} {code:02x}", start)
    return entry, pos


def instruction_tables(features: frozenset[Feature]) -> _Dispatch:
    """The decoder's instruction tables (``_dispatch``): for a reader of
    bodies the decoder has checked (the lowering reads them straight into
    its own form), so that immediates have one reader."""
    return _dispatch(features)


prefixed_entry = _prefixed_entry
"""The table entry of a prefixed instruction, for the same readers."""

_new_tuple = tuple.__new__


def decode_expr(data: bytes, pos: int,
                features: frozenset[Feature] = SUPPORTED_FEATURES) -> tuple[Expr, int, bool]:
    """Decode instructions from ``data[pos]`` up to and including the ``end``
    that closes the sequence (a function body or a constant expression).

    Returns the flat instruction tuple, the position after it, and whether
    any instruction refers to a data segment (``memory.init``, ``data.drop``).
    """
    single, prefixed = _dispatch(features)
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
                entry, pos = _prefixed_entry(data, start, prefixed)
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


class LazyBody(Sequence[Instruction]):
    """A function body kept as its bytes in the module binary, decoded when
    read.  A large module keeps only what runs in memory as instructions:
    iterating decodes the body afresh and keeps nothing (one pass: lowering,
    encoding), indexing or ``len`` decode it once and keep the instructions
    (the printer, the debugger).  The decoder has already checked that the
    bytes are well-formed (or the module was trusted, see ``decode_module``)."""

    __slots__ = ("data", "start", "end", "features", "_instructions")

    def __init__(self, data: bytes, start: int, end: int, features: frozenset[Feature] = SUPPORTED_FEATURES) -> None:
        self.data = data
        self.start = start  # the first instruction (after the locals)
        self.end = end      # after the final ``end``
        self.features = features  # the binary format it was checked in
        self._instructions: Expr | None = None

    def decode(self) -> Expr:
        instrs, _, _ = decode_expr(self.data, self.start, self.features)
        return instrs

    def _kept(self) -> Expr:
        if self._instructions is None:
            self._instructions = self.decode()
        return self._instructions

    def __iter__(self) -> Iterator[Instruction]:
        return iter(self._instructions if self._instructions is not None else self.decode())

    def __len__(self) -> int:
        return len(self._kept())

    def __bool__(self) -> bool:
        return True  # a body holds at least its final ``end``

    @overload
    def __getitem__(self, index: int) -> Instruction: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Instruction]: ...

    def __getitem__(self, index: int | slice) -> Instruction | Sequence[Instruction]:
        if index == -1 and self._instructions is None:
            return Instruction(OP_END, None, self.end - 1)  # where every body ends, found without decoding it
        return self._kept()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyBody):
            return self.data[self.start:self.end] == other.data[other.start:other.end] or \
                tuple(self) == tuple(other)
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"<body of {self.end - self.start} bytes at {self.start:#x}>"


# Kinds of a segment in ``DataSegments``: passive, or active with its offset
# a plain ``i32.const``/``i64.const`` (kept as numbers) or another expression.
_PASSIVE, _ACTIVE_I32, _ACTIVE_I64, _ACTIVE_EXPR = range(4)
_CONST_KINDS = {op_named("i32.const"): _ACTIVE_I32, op_named("i64.const"): _ACTIVE_I64}
_KIND_OPS = {kind: operation for operation, kind in _CONST_KINDS.items()}
_KIND_ADDRESS = (None, I32, I64, None)
_U32_TYPECODE = "I" if array("I").itemsize >= 4 else "L"  # the array type code of a u32 (four bytes where C's int has them)


class DataSegments(CompactDatas):
    """The data section of a decoded binary, a few array entries per segment:
    its kind and memory, where its bytes lie in the module binary, and the
    value and positions of its offset when that is a plain constant (by far
    the usual: a Go module has tens of thousands of segments, which as
    ``Data`` objects with their offset instructions would be hundreds of
    thousands of objects for as long as the module lives).  Any other offset
    is kept as its expression.  Reading a segment makes its ``Data``, equal
    to what decoding it plainly gives; ``entries`` reads all of them without."""

    __slots__ = ("data", "_kinds", "_memories", "_starts", "_ends", "_values", "_const_at", "_end_at", "_exprs")

    def __init__(self, data: bytes) -> None:
        self.data = data
        position = _U32_TYPECODE if len(data) < 1 << 32 else "Q"
        self._kinds = array("B")
        self._memories = array(_U32_TYPECODE)
        self._starts = array(position)    # the segment's bytes: data[start:end]
        self._ends = array(position)
        self._values = array("Q")         # a plain offset: its constant (unsigned, as decoded),
        self._const_at = array(position)  # the constant's position
        self._end_at = array(position)    # and its ``end``'s
        self._exprs: dict[int, Expr] = {}

    def append(self, memory: int, offset: Expr | None, start: int, end: int) -> None:
        """Add the next segment: passive when ``offset`` is ``None``."""
        kind = _PASSIVE
        value = const_at = end_at = 0
        if offset is not None:
            kind = _ACTIVE_EXPR
            if len(offset) == 2:
                first, last = offset
                kind = _CONST_KINDS.get(first.op, _ACTIVE_EXPR)
            if kind == _ACTIVE_EXPR:
                self._exprs[len(self._kinds)] = offset
            else:
                value, const_at, end_at = first.imm, first.offset, last.offset
        self._kinds.append(kind)
        self._memories.append(memory)
        self._starts.append(start)
        self._ends.append(end)
        self._values.append(value)
        self._const_at.append(const_at)
        self._end_at.append(end_at)

    def _offset(self, index: int) -> Expr | None:
        kind = self._kinds[index]
        if kind == _PASSIVE:
            return None
        if kind == _ACTIVE_EXPR:
            return self._exprs[index]
        return (Instruction(_KIND_OPS[kind], self._values[index], self._const_at[index]),
                Instruction(OP_END, None, self._end_at[index]))

    def _segment(self, index: int) -> Data:
        init = self.data[self._starts[index]:self._ends[index]]
        if self._kinds[index] == _PASSIVE:
            return Data(init, SegmentMode.PASSIVE)
        return Data(init, SegmentMode.ACTIVE, self._memories[index], self._offset(index))

    def entries(self) -> Iterator[DataEntry]:
        data, exprs, active, passive = self.data, self._exprs, SegmentMode.ACTIVE, SegmentMode.PASSIVE
        for index, (kind, memory, start, end, value) in enumerate(
                zip(self._kinds, self._memories, self._starts, self._ends, self._values)):
            if kind == _PASSIVE:
                yield passive, 0, data[start:end], None, None
            elif kind == _ACTIVE_EXPR:
                yield active, memory, data[start:end], exprs[index], None
            else:
                yield active, memory, data[start:end], value, _KIND_ADDRESS[kind]

    def __len__(self) -> int:
        return len(self._kinds)

    @overload
    def __getitem__(self, index: int) -> Data: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Data]: ...

    def __getitem__(self, index: int | slice) -> Data | Sequence[Data]:
        if isinstance(index, slice):
            return tuple(self._segment(position) for position in range(len(self))[index])
        return self._segment(range(len(self))[index])  # IndexError beyond either end

    def __iter__(self) -> Iterator[Data]:
        return (self._segment(index) for index in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (DataSegments, tuple)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"<{len(self)} data segments>"


class BodyCheck(Protocol):
    """Checks each function body in the decoder's pass, by the body's
    position among the defined functions."""

    def accepts(self, position: int, data: bytes, start: int, end: int, local_types: tuple[ValType, ...]) -> bool:
        """Whether the body whose instructions are ``data[start:end]`` is
        known to be well-formed and valid without decoding it (a native
        check, ``interp/valid/native_body.pyx``): it is then neither decoded
        nor given to ``check``.  ``False``: not known, decode it."""

    def check(self, position: int, func: Func) -> None:
        """Check a decoded body: the function with its instructions."""


BodyCheckFactory = Callable[[Module], BodyCheck]
"""Makes the ``BodyCheck`` of a module from what precedes its code section:
the module decoded so far, its functions without bodies."""


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

    def __init__(self, data: bytes, features: frozenset[Feature], check_bodies: BodyCheckFactory | None = None,
                 trusted: bool = False) -> None:
        self.data = data
        self.features = features
        self.check_bodies = check_bodies
        self.trusted = trusted
        self.reader = ByteReader(data, len(MAGIC) + len(VERSION), _EOF)
        self.types: list[DefType] = []
        self.rec_groups: list[tuple[int, int]] = []
        self.table_inits: list[Expr | None] = []
        self.imports: list[Import] = []
        self.func_types: list[int] = []
        self.codes: list[tuple[tuple[ValType, ...], LazyBody, int]] = []
        self.tables: list[TableType] = []
        self.memories: list[MemoryType] = []
        self.tags: list[TagType] = []
        self.globals: list[Global] = []
        self.exports: list[Export] = []
        self.start: int | None = None
        self.elems: list[Elem] = []
        self.datas = DataSegments(data)
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

    def limits(self, memory: bool) -> tuple[Limits, ValType, int]:
        """Limits, with the address type and (of a memory) page size their
        flags give.  WebAssembly 2.0 reads the flags as a one-bit LEB128
        number, later features as a byte of flags (spec 5.3.7)."""
        reader = self.reader
        features = self.features
        if Feature.MEMORY64 not in features:
            has_max = reader.u1()
            minimum = reader.u32()
            return Limits(minimum, reader.u32() if has_max else None), ValType.I32, PAGE_SIZE
        pos = reader.pos
        flags = reader.byte()
        allowed = LIMITS_HAS_MAX | LIMITS_ADDRESS_I64
        if memory and Feature.CUSTOM_PAGE_SIZES in features:
            allowed |= LIMITS_PAGE_SIZE
        if flags & ~allowed:
            raise MalformedError("malformed limits flags", pos)
        minimum = reader.u64()
        maximum = reader.u64() if flags & LIMITS_HAS_MAX else None
        page_size = PAGE_SIZE
        if flags & LIMITS_PAGE_SIZE:
            pos = reader.pos
            exponent = reader.u32()
            if exponent > MAX_PAGE_SIZE_EXPONENT:
                raise MalformedError("invalid custom page size", pos)
            page_size = 1 << exponent
        address = ValType.I64 if flags & LIMITS_ADDRESS_I64 else ValType.I32
        return Limits(minimum, maximum), address, page_size

    def table_type(self) -> TableType:
        elem = self.reftype()
        limits, address, _ = self.limits(memory=False)
        return TableType(limits, elem, address)

    def memory_type(self) -> MemoryType:
        limits, address, page_size = self.limits(memory=True)
        return MemoryType(limits, address, page_size)

    def tag_type(self) -> TagType:
        """A tag's attribute byte (0: an exception), then its type index."""
        self.at_cursor(_read_zero)
        return TagType(self.reader.u32())

    def global_type(self) -> GlobalType:
        valtype = self.valtype()
        return GlobalType(valtype, self.mutability())

    def expr(self) -> Expr:
        reader = self.reader
        instrs, reader.pos, _ = decode_expr(self.data, reader.pos, self.features)
        return instrs

    def extern_kind(self, what: str) -> ExternKind:
        pos = self.reader.pos
        kind = _KIND_BY_CODE.get(self.reader.byte())
        if kind is None or (kind is ExternKind.TAG and Feature.EXCEPTION_HANDLING not in self.features):
            raise MalformedError(f"malformed {what} kind", pos)
        return kind

    # -- one method per section ----------------------------------------------

    def type_section(self) -> None:
        """Recursive groups (``rec``, 0x4E) and single type definitions."""
        reader = self.reader
        for _ in range(reader.length()):
            if not reader.at_end() and self.data[reader.pos] == REC_FORM:
                reader.pos += 1
                first = len(self.types)
                count = reader.length()
                for _ in range(count):
                    self.types.append(self.sub_type())
                self.rec_groups.append((first, count))
            else:
                self.types.append(self.sub_type())

    def sub_type(self) -> DefType:
        """``sub`` (0x50) or ``sub final`` (0x4F) with its supertypes, or a
        bare composite type."""
        reader = self.reader
        if not reader.at_end() and self.data[reader.pos] in (SUB_FORM, SUB_FINAL_FORM):
            final = reader.byte() == SUB_FINAL_FORM
            supertypes = tuple(reader.u32() for _ in range(reader.length()))
            return SubType(self.comp_type(), final, supertypes)
        return self.comp_type()

    def comp_type(self) -> FuncType | StructType | ArrayType:
        reader = self.reader
        pos = reader.pos
        form = reader.byte()
        if form == FUNC_FORM:
            params = tuple(self.valtype() for _ in range(reader.length()))
            results = tuple(self.valtype() for _ in range(reader.length()))
            return FuncType(params, results)
        if form == STRUCT_FORM:
            return StructType(tuple(self.field_type() for _ in range(reader.length())))
        if form == ARRAY_FORM:
            return ArrayType(self.field_type())
        raise MalformedError(TOO_LONG if form >= 0x80 else "malformed function type", pos)

    def field_type(self) -> FieldType:
        reader = self.reader
        if reader.at_end():
            raise MalformedError(_EOF, len(self.data))
        packed = _PACKED_BY_CODE.get(self.data[reader.pos])
        storage: StorageType
        if packed is not None:
            reader.pos += 1
            storage = packed
        else:
            storage = self.valtype()
        return FieldType(storage, self.mutability())

    def mutability(self) -> bool:
        pos = self.reader.pos
        mutability = self.reader.byte()
        if mutability > 1:
            raise MalformedError("malformed mutability", pos)
        return mutability == 1

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
                desc = self.memory_type()
            elif kind is ExternKind.TAG:
                desc = self.tag_type()
            else:
                desc = self.global_type()
            self.imports.append(Import(module_name, item_name, desc))

    def function_section(self) -> None:
        reader = self.reader
        self.func_types = [reader.u32() for _ in range(reader.length())]

    def table_section(self) -> None:
        """Tables, each optionally (0x40 0x00 first) with the expression that
        initialises its elements."""
        reader = self.reader
        for _ in range(reader.length()):
            init: Expr | None = None
            if not reader.at_end() and self.data[reader.pos] == 0x40:
                reader.pos += 1
                pos = reader.pos
                if reader.byte() != 0x00:
                    raise MalformedError("malformed table", pos)
                table = self.table_type()
                init = self.expr()
            else:
                table = self.table_type()
            self.tables.append(table)
            self.table_inits.append(init)

    def memory_section(self) -> None:
        self.memories = [self.memory_type() for _ in range(self.reader.length())]

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
        init: tuple[Expr, ...]
        if flags & 4:
            elem_type = self.reftype() if has_type else ValType.FUNCREF
            init = tuple(self.expr() for _ in range(reader.length()))
        else:
            elem_type = FUNC_INDEX_ELEM_TYPE
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
        """Each body is decoded (which checks it is well-formed), handed to the
        body check, and kept as its bytes (``LazyBody``); a body the check
        accepts undecoded is kept as it is.  A trusted module's bodies are
        not decoded at all."""
        reader = self.reader
        data = self.data
        features = self.features
        check = self.check_bodies(self.module(self.declared_functions())) if self.check_bodies is not None else None
        for position in range(reader.length()):
            size = reader.length()
            body_start = reader.pos
            local_types = self.locals()
            code_start = reader.pos
            checked = check is not None and position < len(self.func_types)  # else malformed, said at the end
            if self.trusted:
                end = body_start + size
                if end > len(data) or end <= code_start:
                    raise MalformedError(_EOF, len(data))
            elif checked and check.accepts(position, data, code_start, body_start + size, local_types):
                end = body_start + size  # well-formed, valid, and it uses no data segment
            else:
                body, end, uses_data = decode_expr(data, code_start, features)
                if end != body_start + size:
                    raise MalformedError("section size mismatch", body_start)
                self.code_uses_data = self.code_uses_data or uses_data
                if checked:
                    check.check(position, Func(self.func_types[position], local_types, body, body_start))
            reader.pos = end
            self.codes.append((local_types, LazyBody(data, code_start, end, features), body_start))

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
            memory, offset = 0, None
            if flags != 1:
                memory = reader.u32() if flags == 2 else 0
                offset = self.expr()
            size = reader.length()
            start = reader.pos
            reader.skip(size)
            self.datas.append(memory, offset, start, reader.pos)

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
        return self.module(funcs)

    def declared_functions(self) -> tuple[Func, ...]:
        """The functions the function section declares, without locals or bodies."""
        return tuple(Func(type_index, (), ()) for type_index in self.func_types)

    def module(self, funcs: tuple[Func, ...]) -> Module:
        """The module decoded so far, with ``funcs``."""
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
            datas=self.datas if self.datas else (),  # the data section follows the code section
            data_count=self.data_count,
            customs=tuple(self.customs),
            names=names,
            rec_groups=tuple(self.rec_groups),
            table_inits=tuple(self.table_inits) if any(init is not None for init in self.table_inits) else (),
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


def decode_module(data: bytes, features: frozenset[Feature] = SUPPORTED_FEATURES,
                  check_bodies: BodyCheckFactory | None = None, trusted: bool = False) -> Module:
    """Decode a module binary, in the binary format of ``features``.  Raises
    :class:`MalformedError` (and nothing else) when ``data`` is not a
    well-formed binary.

    Function bodies stay bytes (``LazyBody``) once checked.  ``check_bodies``,
    when given, receives each body as it is decoded: validation in the same
    pass, before its instructions are dropped.  ``trusted`` skips decoding the
    bodies, for a binary this engine has decoded and validated before (the
    module cache vouches for it).

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
        return _ModuleDecoder(data, features, check_bodies, trusted).run()
    finally:
        if collecting:
            gc.enable()
