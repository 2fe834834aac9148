"""Encoding a :class:`Module` as a WebAssembly binary (spec chapter 5).

The output uses minimal LEB128 encodings and the spec's section order.
Custom sections go back after the section they followed when decoded; a
section that a custom section was recorded after is written even when
empty, so that decoding the output gives the same module again.

Instructions are encoded from the opcode table: ``_opcode(op)`` gives the
opcode bytes and ``_IMMEDIATE_WRITERS[op.imm]`` the immediate's.
"""

from __future__ import annotations

from typing import Callable

import leb128

from interp.binary.decode import (
    ARRAY_FORM,
    CODE,
    CUSTOM,
    DATA,
    DATA_COUNT,
    ELEMENT,
    EXPORT,
    FUNC_FORM,
    FUNC_INDEX_ELEM_TYPE,
    FUNCTION,
    GLOBAL,
    IMPORT,
    LIMITS_ADDRESS_I64,
    LIMITS_HAS_MAX,
    LIMITS_PAGE_SIZE,
    MAGIC,
    MEMARG_HAS_MEMORY,
    MEMORY,
    OP_END,
    OP_REF_FUNC,
    REC_FORM,
    REF_NULL_PREFIX,
    REF_PREFIX,
    SECTION_ORDER,
    START,
    STRUCT_FORM,
    SUB_FINAL_FORM,
    SUB_FORM,
    TABLE,
    TAG,
    TYPE,
    VERSION,
)
from interp.binary.names import (
    FIELD_NAMES,
    LOCAL_NAMES,
    MODULE_NAME,
    NAME_MAP_FIELDS,
    SECTION_NAME,
    decode_names,
    has_names,
)
from interp.errors import UsageError
from interp.syntax.module import (
    Catch,
    CustomSection,
    Data,
    Elem,
    Expr,
    Func,
    Global,
    Import,
    Module,
    Names,
    SegmentMode,
)
from interp.syntax.opcodes import OPS, Imm, MemArg, Op
from interp.syntax.types import (
    PAGE_SIZE,
    ArrayType,
    CompType,
    DefType,
    FieldType,
    FuncType,
    HeapKind,
    HeapType,
    Limits,
    MemoryType,
    PackedType,
    StructType,
    SubType,
    TableType,
    TagType,
    ValType,
)
from interp.syntax.values import signed32, signed64

_ONE_BYTE = tuple(bytes([value]) for value in range(256))
_AT_END = -1
"""Where custom sections go whose ``after`` names no section."""


# --------------------------------------------------------------------------
# Values.

def encode_unsigned(value: int, bits: int = 32) -> bytes:
    """Minimal unsigned LEB128 of ``value``, which must fit in ``bits`` bits."""
    if 0 <= value < 0x80:
        return _ONE_BYTE[value]
    if not 0 <= value < 1 << bits:
        raise UsageError(f"cannot encode {value} as a u{bits}")
    return bytes(leb128.u.encode(value))


def encode_signed(value: int, bits: int) -> bytes:
    """Minimal signed LEB128 of ``value``, which must fit in ``bits`` bits."""
    if -0x40 <= value < 0x40:
        return _ONE_BYTE[value & 0x7F]
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise UsageError(f"cannot encode {value} as an s{bits}")
    return bytes(leb128.i.encode(value))


def _fixed(value: int, width: int) -> bytes:
    if not 0 <= value < 1 << (8 * width):
        raise UsageError(f"cannot encode {value} in {width} bytes")
    return value.to_bytes(width, "little")


def _vector(items: list[bytes] | tuple[bytes, ...]) -> bytes:
    return encode_unsigned(len(items)) + b"".join(items)


def _name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return encode_unsigned(len(raw)) + raw


def _heap_type(heap: HeapType) -> bytes:
    """An abstract heap type's byte, or a type index as a non-negative s33."""
    if heap.__class__ is HeapKind:
        if heap.code < 0:
            raise UsageError(f"the heap type {heap.text} has no encoding")
        return _ONE_BYTE[heap.code]
    if not isinstance(heap, int) or heap < 0:
        raise UsageError(f"cannot encode the heap type {heap!r}: give a type index")
    return encode_signed(heap, 33)


def _valtype(valtype: ValType) -> bytes:
    """The type's byte, or, for a reference type without a shorthand,
    the 0x63 (nullable) or 0x64 prefix and the heap type."""
    code = valtype.code  # type: ignore[attr-defined]
    if code is not None:
        return _ONE_BYTE[code]
    return _ONE_BYTE[REF_NULL_PREFIX if valtype.nullable else REF_PREFIX] + _heap_type(valtype.heap)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# Instructions.

def _write_u32_pair(imm: tuple[int, int]) -> bytes:
    """Two u32s: index pairs."""
    return encode_unsigned(imm[0]) + encode_unsigned(imm[1])


def _write_memarg(imm: MemArg) -> bytes:
    """The alignment exponent, with bit 6 set and the memory index after it
    when the memory is not memory 0 (multi-memory), then the offset."""
    align, offset, memory = imm
    if memory:
        return encode_unsigned(align | MEMARG_HAS_MEMORY) + encode_unsigned(memory) + encode_unsigned(offset, 64)
    return encode_unsigned(align) + encode_unsigned(offset, 64)


def _write_blocktype(imm: ValType | int | None) -> bytes:
    if imm is None:
        return b"\x40"
    if isinstance(imm, ValType):
        return _valtype(imm)
    if imm < 0:
        raise UsageError(f"negative type index {imm} in a block type")
    return encode_signed(imm, 33)


def _write_try_table(imm: tuple[ValType | int | None, tuple[Catch, ...]]) -> bytes:
    blocktype, catches = imm
    clauses = []
    for catch in catches:
        tag = encode_unsigned(catch.tag) if catch.kind.has_tag else b""  # type: ignore[arg-type]
        clauses.append(_ONE_BYTE[catch.kind.value] + tag + encode_unsigned(catch.label))
    return _write_blocktype(blocktype) + _vector(clauses)


def _write_br_on_cast(imm: tuple[int, ValType, ValType]) -> bytes:
    label, source, target = imm
    flags = (1 if source.nullable else 0) | (2 if target.nullable else 0)  # type: ignore[attr-defined]
    return _ONE_BYTE[flags] + encode_unsigned(label) + _heap_type(source.heap) + _heap_type(target.heap)  # type: ignore[attr-defined]


def _write_br_table(imm: tuple[tuple[int, ...], int]) -> bytes:
    labels, default = imm
    return _vector([encode_unsigned(label) for label in labels]) + encode_unsigned(default)


_IMMEDIATE_WRITERS: dict[Imm, Callable[[object], bytes] | None] = {
    Imm.NONE: None,
    Imm.BLOCKTYPE: _write_blocktype,
    Imm.LABEL: encode_unsigned,
    Imm.BR_TABLE: _write_br_table,
    Imm.FUNC: encode_unsigned,
    Imm.CALL_INDIRECT: _write_u32_pair,
    Imm.LOCAL: encode_unsigned,
    Imm.GLOBAL: encode_unsigned,
    Imm.TABLE: encode_unsigned,
    Imm.ELEM: encode_unsigned,
    Imm.DATA: encode_unsigned,
    Imm.TABLE_INIT: _write_u32_pair,
    Imm.TABLE_COPY: _write_u32_pair,
    Imm.MEMARG: _write_memarg,
    Imm.MEMORY: encode_unsigned,
    Imm.MEMORY_INIT: _write_u32_pair,
    Imm.MEMORY_COPY: _write_u32_pair,
    Imm.I32: lambda imm: encode_signed(signed32(imm), 32),
    Imm.I64: lambda imm: encode_signed(signed64(imm), 64),
    Imm.F32: lambda imm: _fixed(imm, 4),
    Imm.F64: lambda imm: _fixed(imm, 8),
    Imm.V128: lambda imm: _fixed(imm, 16),
    Imm.HEAPTYPE: _heap_type,
    Imm.TYPE: encode_unsigned,
    Imm.FIELD: _write_u32_pair,
    Imm.ARRAY_FIXED: _write_u32_pair,
    Imm.ARRAY_DATA: _write_u32_pair,
    Imm.ARRAY_ELEM: _write_u32_pair,
    Imm.ARRAY_COPY: _write_u32_pair,
    Imm.CAST: lambda imm: _heap_type(imm.heap),
    Imm.CAST_NULL: lambda imm: _heap_type(imm.heap),
    Imm.BR_ON_CAST: _write_br_on_cast,
    Imm.SELECT_TYPES: lambda imm: _vector([_valtype(t) for t in imm]),
    Imm.LANE: lambda imm: _fixed(imm, 1),
    Imm.SHUFFLE: lambda imm: b"".join(_fixed(lane, 1) for lane in imm),
    Imm.MEMARG_LANE: lambda imm: _write_memarg(imm[0]) + _fixed(imm[1], 1),
    Imm.TAG: encode_unsigned,
    Imm.TYPE: encode_unsigned,
    Imm.TRY_TABLE: _write_try_table,
}



def _opcode(op: Op) -> bytes:
    """The opcode bytes of ``op``: one byte, or a prefix byte and the sub-opcode in LEB128."""
    if op.prefix is None:
        return _ONE_BYTE[op.code]
    return _ONE_BYTE[op.prefix] + encode_unsigned(op.code)


_OPCODE_WRITERS: dict[Op, tuple[bytes, Callable[[object], bytes] | None]] = {
    op: (_opcode(op), _IMMEDIATE_WRITERS[op.imm]) for op in OPS
}


def encode_expr(expr: Expr) -> bytes:
    """The bytes of an instruction sequence (including its final ``end``)."""
    writers = _OPCODE_WRITERS
    out = bytearray()
    for instr in expr:
        op = instr.op
        found = writers.get(op)
        if found is None:
            raise UsageError(f"{op!r} is not an instruction of the opcode table")
        opcode, write = found
        out += opcode
        if write is not None:
            try:
                out += write(instr.imm)
            except (TypeError, ValueError, IndexError) as error:
                raise UsageError(f"bad immediate {instr.imm!r} for {op.name}") from error
    return bytes(out)


# --------------------------------------------------------------------------
# Module fields.

def _limits(limits: Limits, address: ValType, page_size: int = PAGE_SIZE) -> bytes:
    """The limits flags (a maximum, an i64 address type, a page size other
    than 64 KiB), then the limits and the page size's exponent."""
    flags = (LIMITS_HAS_MAX if limits.max is not None else 0) | (LIMITS_ADDRESS_I64 if address is ValType.I64 else 0)
    tail = b""
    if page_size != PAGE_SIZE:
        flags |= LIMITS_PAGE_SIZE
        tail = encode_unsigned(page_size.bit_length() - 1)
    encoded = _ONE_BYTE[flags] + encode_unsigned(limits.min, 64)
    if limits.max is not None:
        encoded += encode_unsigned(limits.max, 64)
    return encoded + tail


def _table_type(table: TableType) -> bytes:
    return _valtype(table.elem) + _limits(table.limits, table.address)


def _memory_type(memory: MemoryType) -> bytes:
    return _limits(memory.limits, memory.address, memory.page_size)


def _field_type(field: FieldType) -> bytes:
    storage = field.storage
    encoded = _ONE_BYTE[storage.code] if isinstance(storage, PackedType) else _valtype(storage)
    return encoded + (b"\x01" if field.mutable else b"\x00")


def _comp_type(comp: CompType) -> bytes:
    if isinstance(comp, FuncType):
        return (_ONE_BYTE[FUNC_FORM] + _vector([_valtype(t) for t in comp.params])
                + _vector([_valtype(t) for t in comp.results]))
    if isinstance(comp, StructType):
        return _ONE_BYTE[STRUCT_FORM] + _vector([_field_type(field) for field in comp.fields])
    if isinstance(comp, ArrayType):
        return _ONE_BYTE[ARRAY_FORM] + _field_type(comp.field)
    raise UsageError(f"not a composite type: {comp!r}")


def _def_type(definition: DefType) -> bytes:
    if isinstance(definition, SubType):
        form = SUB_FINAL_FORM if definition.final else SUB_FORM
        return (_ONE_BYTE[form] + _vector([encode_unsigned(index) for index in definition.supertypes])
                + _comp_type(definition.comp))
    return _comp_type(definition)


def _type_section(module: Module) -> list[bytes]:
    """One entry per recursive group: a ``rec`` group, or a lone type."""
    entries = []
    for first, count, explicit in module.type_groups():
        definitions = [_def_type(definition) for definition in module.types[first:first + count]]
        entries.append(_ONE_BYTE[REC_FORM] + _vector(definitions) if explicit else definitions[0])
    return entries


def _table(table: TableType, init: Expr | None) -> bytes:
    if init is None:
        return _table_type(table)
    return b"\x40\x00" + _table_type(table) + encode_expr(init)


def _tag_type(tag: TagType) -> bytes:
    return b"\x00" + encode_unsigned(tag.type_index)


def _import(imp: Import) -> bytes:
    desc = imp.desc
    if isinstance(desc, int):
        encoded = encode_unsigned(desc)
    elif isinstance(desc, TableType):
        encoded = _table_type(desc)
    elif isinstance(desc, MemoryType):
        encoded = _memory_type(desc)
    elif isinstance(desc, TagType):
        encoded = _tag_type(desc)
    else:
        encoded = _valtype(desc.valtype) + (b"\x01" if desc.mutable else b"\x00")
    return _name(imp.module) + _name(imp.name) + _ONE_BYTE[imp.kind.value] + encoded


def _global(glob: Global) -> bytes:
    return _valtype(glob.type.valtype) + (b"\x01" if glob.type.mutable else b"\x00") + encode_expr(glob.init)


def _func_index_of(expr: Expr) -> int | None:
    """The function index when ``expr`` is exactly ``ref.func i; end``."""
    if len(expr) == 2 and expr[0].op is OP_REF_FUNC and expr[1].op is OP_END:
        return expr[0].imm
    return None


def _elem(elem: Elem) -> bytes:
    """The most compact of the eight encodings that represents ``elem``,
    the way wat2wasm chooses: function indices when every element is a plain
    ``ref.func`` of a funcref segment, and no table index for table 0."""
    indices = [_func_index_of(expr) for expr in elem.init]
    as_indices = elem.type is FUNC_INDEX_ELEM_TYPE and None not in indices
    flags = 0 if as_indices else 4
    head = b""
    if elem.mode is SegmentMode.ACTIVE:
        if elem.offset is None:
            raise UsageError("active element segment without an offset")
        if elem.table != 0 or elem.type is not (FUNC_INDEX_ELEM_TYPE if as_indices else ValType.FUNCREF):
            flags |= 2
            head = encode_unsigned(elem.table)
        head += encode_expr(elem.offset)
        explicit_type = flags & 2 != 0
    else:
        flags |= 3 if elem.mode is SegmentMode.DECLARATIVE else 1
        explicit_type = True
    if as_indices:
        kind = b"\x00" if explicit_type else b""
        body = kind + _vector([encode_unsigned(index) for index in indices])  # type: ignore[arg-type]
    else:
        reftype = _valtype(elem.type) if explicit_type else b""
        body = reftype + _vector([encode_expr(expr) for expr in elem.init])
    return encode_unsigned(flags) + head + body


def _locals(local_types: tuple[ValType, ...]) -> bytes:
    groups: list[bytes] = []
    index = 0
    while index < len(local_types):
        valtype = local_types[index]
        run_end = index
        while run_end < len(local_types) and local_types[run_end] is valtype:
            run_end += 1
        groups.append(encode_unsigned(run_end - index) + _valtype(valtype))
        index = run_end
    return _vector(groups)


def instruction_offsets(func: Func) -> list[int]:
    """The byte offset of each instruction of ``func``'s body within its code
    entry, counted from the start of its locals (after the entry's size), as
    code metadata (branch hints) counts them."""
    offset = len(_locals(func.locals))
    offsets = []
    for instr in func.body:
        offsets.append(offset)
        offset += len(encode_expr((instr,)))
    return offsets


def _code(func: Func) -> bytes:
    body = _locals(func.locals) + encode_expr(func.body)
    return encode_unsigned(len(body)) + body


def _data(data: Data) -> bytes:
    init = encode_unsigned(len(data.init)) + data.init
    if data.mode is not SegmentMode.ACTIVE:
        return b"\x01" + init
    if data.offset is None:
        raise UsageError("active data segment without an offset")
    if data.memory == 0:
        return b"\x00" + encode_expr(data.offset) + init
    return b"\x02" + encode_unsigned(data.memory) + encode_expr(data.offset) + init


def _standard_sections(module: Module) -> dict[int, tuple[bytes | None, bool]]:
    """Each standard section's content and whether the module has anything
    for it.  Content is ``None`` when the section cannot be written at all
    (no start function, no data count)."""
    vectors: dict[int, list[bytes]] = {
        TYPE: _type_section(module),
        IMPORT: [_import(imp) for imp in module.imports],
        FUNCTION: [encode_unsigned(f.type_index) for f in module.funcs],
        TABLE: [_table(t, module.table_init(position)) for position, t in enumerate(module.tables)],
        MEMORY: [_memory_type(m) for m in module.memories],
        TAG: [_tag_type(t) for t in module.tags],
        GLOBAL: [_global(g) for g in module.globals],
        EXPORT: [_name(e.name) + _ONE_BYTE[e.kind.value] + encode_unsigned(e.index) for e in module.exports],
        ELEMENT: [_elem(e) for e in module.elems],
        CODE: [_code(f) for f in module.funcs],
        DATA: [_data(d) for d in module.datas],
    }
    sections: dict[int, tuple[bytes | None, bool]] = {
        section_id: (_vector(items), bool(items)) for section_id, items in vectors.items()}
    sections[START] = (None, False) if module.start is None else (encode_unsigned(module.start), True)
    sections[DATA_COUNT] = ((None, False) if module.data_count is None
                            else (encode_unsigned(module.data_count), True))
    return sections


def encode_names(names: Names) -> bytes:
    """The content of a ``name`` custom section (after its name) holding
    ``names``: subsections in id order, empty ones left out."""

    def name_map(entries: dict[int, str]) -> bytes:
        return _vector([encode_unsigned(index) + _name(entries[index]) for index in sorted(entries)])

    subsections: list[tuple[int, bytes]] = []
    if names.module is not None:
        subsections.append((MODULE_NAME, _name(names.module)))
    for subsection_id, nested in ((LOCAL_NAMES, names.locals), (FIELD_NAMES, names.fields)):
        if nested:
            subsections.append((subsection_id, _vector([encode_unsigned(index) + name_map(nested[index])
                                                        for index in sorted(nested)])))
    for subsection_id, field in NAME_MAP_FIELDS.items():
        entries = getattr(names, field)
        if entries:
            subsections.append((subsection_id, name_map(entries)))
    subsections.sort(key=lambda item: item[0])
    return b"".join(_ONE_BYTE[sid] + encode_unsigned(len(content)) + content for sid, content in subsections)


def _customs_to_write(module: Module) -> tuple[list[CustomSection], bytes | None]:
    """The custom sections to write in place, and the content of a new name
    section to write at the very end (where the spec recommends it), if any.

    The original ``name`` section (the first, the one decoding reads) is
    kept byte for byte while it still says exactly what ``module.names``
    says: it may hold subsections, such as label names, that ``Names`` does
    not model.  Otherwise it is rewritten in its place from
    ``module.names``, or dropped when there are no names; either way any
    further ``name`` sections go, so that names are written once."""
    customs = list(module.customs)
    originals = [custom for custom in customs if custom.name == SECTION_NAME]
    wanted = has_names(module.names)
    if not originals:
        return customs, encode_names(module.names) if wanted else None
    first = originals[0]
    if decode_names(first.data) == module.names:
        return customs, None
    rewritten = CustomSection(SECTION_NAME, encode_names(module.names), first.after)
    kept = [rewritten if custom is first else custom
            for custom in customs if custom.name != SECTION_NAME or (custom is first and wanted)]
    return kept, None


def _section(section_id: int, content: bytes) -> bytes:
    return _ONE_BYTE[section_id] + encode_unsigned(len(content)) + content


def _custom(name: str, content: bytes) -> bytes:
    return _section(CUSTOM, _name(name) + content)


def encode_module(module: Module) -> bytes:
    """The binary of ``module``.  Raises :class:`UsageError` when the module
    holds something no binary can express (a negative index, a name that is
    not Unicode, a field of the wrong type)."""
    try:
        return _encode_module(module)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as error:
        raise UsageError(f"cannot encode the module: {error}") from error


def _encode_module(module: Module) -> bytes:
    sections = _standard_sections(module)
    customs, trailing_names = _customs_to_write(module)
    by_place: dict[int, list[CustomSection]] = {}
    for custom in customs:
        known_place = custom.after == CUSTOM or custom.after in sections
        by_place.setdefault(custom.after if known_place else _AT_END, []).append(custom)
    out = bytearray(MAGIC + VERSION)
    for custom in by_place.get(CUSTOM, ()):
        out += _custom(custom.name, custom.data)
    for section_id in SECTION_ORDER:
        content, has_items = sections[section_id]
        if content is not None and (has_items or section_id in by_place):
            out += _section(section_id, content)
        for custom in by_place.get(section_id, ()):
            out += _custom(custom.name, custom.data)
    for custom in by_place.get(_AT_END, ()):
        out += _custom(custom.name, custom.data)
    if trailing_names is not None:
        out += _custom(SECTION_NAME, trailing_names)
    return bytes(out)
