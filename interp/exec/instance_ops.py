"""The ``RUNTIME`` instructions of the table (interp/syntax/semantics.py):
tables, element and data segments, ``memory.init``, the 128-bit arithmetic
of wide-arithmetic (two results each), throwing exceptions (exceptions.py)
and the vector instructions, as plain Python functions bound to one instance
(their immediates folded in).

Both engines run these through ``instance_operation``: the step machine
(bind.py) runs the function between its operand slots, the compiled
loop (native/encode.py) calls it from C.  So each has one implementation,
here, in the runtime object it calls, or — for the vector instructions — in
the module of its shape (``i8x16.add`` is ``add`` of ``i8x16.py``, the vector
loads and stores are in ``simd_memory.py``).
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from interp.errors import ResourceLimitError, Trap, TrapKind
from interp.exec import f32x4, f64x2, i8x16, i16x8, i32x4, i64x2, numerics, simd_memory, v128
from interp.exec.exceptions import throw, throw_ref
from interp.runtime.instance import ModuleInstance
from interp.runtime.references import I31_MASK, GcArray, GcStruct, HostRef, I31, ref_matches
from interp.syntax.defined import DefinedType
from interp.syntax.opcodes import OPS, PREFIX_SIMD, Imm, Op
from interp.syntax.semantics import RUNTIME
from interp.syntax.types import (
    ANYREF,
    ARRAYREF,
    EQREF,
    EXTERNREF,
    I31REF,
    FieldType,
    PackedType,
    RefType,
    ValType,
    ref_type,
)
from interp.syntax.values import MASK32, MASK64, default_value, f32_from_bits, f64_from_bits

I32, I64 = ValType.I32, ValType.I64


@dataclass(frozen=True)
class InstanceOperation:
    """``function`` takes the instruction's operands (``params``, in stack
    order) and returns its result (of type ``result``), or ``None``.  An
    instruction of several results (wide-arithmetic) has the types of those
    after the first in ``more_results``, and its function returns a tuple of
    them all."""

    function: Callable[..., Any]
    params: tuple[ValType, ...]
    result: ValType | None
    more_results: tuple[ValType, ...] = ()


Builder = Callable[[ModuleInstance, Any], InstanceOperation]


def instance_operation(instance: ModuleInstance, operation: Op, imm: Any) -> InstanceOperation:
    """The function running the ``RUNTIME`` instruction ``operation`` (with
    immediate ``imm``) on ``instance``."""
    if operation.semantics is not RUNTIME:
        raise ValueError(f"{operation.name} is not run by a Python function")
    build = _BUILDERS.get(operation.name)
    if build is not None:
        return build(instance, imm)
    if operation.imm in (Imm.MEMARG, Imm.MEMARG_LANE):
        return _vector_memory_operation(instance, operation, imm)
    return _vector_operation(operation, imm)


def _result(operation: Op) -> ValType | None:
    return operation.results[0] if operation.results else None


# --- vectors ------------------------------------------------------------------------------

_SHAPES: dict[str, ModuleType] = {
    "v128": v128, "i8x16": i8x16, "i16x8": i16x8, "i32x4": i32x4, "i64x2": i64x2, "f32x4": f32x4, "f64x2": f64x2,
}


def vector_function(operation: Op) -> Callable[..., Any]:
    """The function of a vector instruction: ``i8x16.add`` is ``add`` in
    ``i8x16.py`` (``and_`` for keywords); the loads and stores are those of
    ``simd_memory.py``."""
    shape, _, name = operation.name.partition(".")
    if operation.imm in (Imm.MEMARG, Imm.MEMARG_LANE):
        module: ModuleType = simd_memory
    else:
        module = _SHAPES[shape]
    if keyword.iskeyword(name):
        name += "_"
    return getattr(module, name)


def _vector_operation(operation: Op, imm: Any) -> InstanceOperation:
    function = vector_function(operation)
    params = operation.params or ()
    if operation.imm is Imm.NONE:
        return InstanceOperation(function, params, _result(operation))
    plain = function  # an immediate (a lane, a shuffle) goes after the operands
    return InstanceOperation(lambda *args: plain(*args, imm), params, _result(operation))


def _vector_memory_operation(instance: ModuleInstance, operation: Op, imm: Any) -> InstanceOperation:
    """A v128 load or store (``simd_memory.py``: ``function(memory, address[,
    vector][, lane])``) with its memory, static offset and lane folded in;
    the address has the memory's address type."""
    function = vector_function(operation)
    memarg, lane = imm if operation.imm is Imm.MEMARG_LANE else (imm, None)
    instance_memory = instance.memories[memarg.memory]
    memory, offset = instance_memory.data, memarg.offset
    if lane is not None:
        run = lambda address, *vector: function(memory, address + offset, *vector, lane)  # noqa: E731
    else:
        run = lambda address, *vector: function(memory, address + offset, *vector)  # noqa: E731
    params = (instance_memory.type.address, *(operation.params or ())[1:])
    return InstanceOperation(run, params, _result(operation))


# --- segments and tables ---------------------------------------------------------------

def _memory_init(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    data_index, memory_index = imm
    memory, datas = instance.memories[memory_index], instance.datas
    return InstanceOperation(lambda d, s, n: memory.init_from(datas[data_index], d, s, n),
                             (memory.type.address, I32, I32), None)


def _data_drop(instance: ModuleInstance, imm: int) -> InstanceOperation:
    datas = instance.datas

    def drop_data() -> None:
        datas[imm] = b""
    return InstanceOperation(drop_data, (), None)


def _elem_drop(instance: ModuleInstance, imm: int) -> InstanceOperation:
    elems = instance.elems

    def drop_elem() -> None:
        elems[imm] = []
    return InstanceOperation(drop_elem, (), None)


def copy_operands(destination: ValType, source: ValType) -> tuple[ValType, ValType, ValType]:
    """The operands of ``table.copy`` and ``memory.copy``: an index of each
    side's address type, and a length of the smaller of the two."""
    return destination, source, I32 if I32 in (destination, source) else I64


def _table_copy(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    destination, source = instance.tables[imm[0]], instance.tables[imm[1]]
    return InstanceOperation(lambda d, s, n: destination.copy_from(source, d, s, n),
                             copy_operands(destination.type.address, source.type.address), None)


def _table_init(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    elems, table = instance.elems, instance.tables[imm[1]]
    return InstanceOperation(lambda d, s, n: table.init_from(elems[imm[0]], d, s, n),
                             (table.type.address, I32, I32), None)


def _table_get(instance: ModuleInstance, imm: int) -> InstanceOperation:
    table = instance.tables[imm]
    return InstanceOperation(table.get, (table.type.address,), table.type.elem)


def _table_set(instance: ModuleInstance, imm: int) -> InstanceOperation:
    table = instance.tables[imm]
    return InstanceOperation(table.set, (table.type.address, table.type.elem), None)


def _table_size(instance: ModuleInstance, imm: int) -> InstanceOperation:
    table = instance.tables[imm]
    return InstanceOperation(lambda: table.size, (), table.type.address)


def _table_grow(instance: ModuleInstance, imm: int) -> InstanceOperation:
    """The old size, or -1 as an unsigned value of the table's address type."""
    table = instance.tables[imm]
    address = table.type.address
    mask = MASK64 if address is I64 else MASK32
    return InstanceOperation(lambda value, delta: table.grow(delta, value) & mask, (table.type.elem, address),
                             address)


def _table_fill(instance: ModuleInstance, imm: int) -> InstanceOperation:
    table = instance.tables[imm]
    address = table.type.address
    return InstanceOperation(table.fill, (address, table.type.elem, address), None)


def _wide(function: Callable[..., tuple[int, int]], arity: int) -> Builder:
    """A wide-arithmetic instruction: i64 operands, a low and a high i64."""
    operation = InstanceOperation(function, (I64,) * arity, I64, (I64,))
    return lambda instance, imm: operation


# --- exceptions ----------------------------------------------------------------------

def _throw(instance: ModuleInstance, imm: int) -> InstanceOperation:
    tag = instance.tags[imm]
    return InstanceOperation(lambda *payload: throw(tag, payload), tag.type.params, None)


def _throw_ref(instance: ModuleInstance, imm: None) -> InstanceOperation:
    return InstanceOperation(throw_ref, (ValType.EXNREF,), None)


# --- references ------------------------------------------------------------------------

def closed_ref_type(instance: ModuleInstance, reftype: RefType) -> RefType:
    """A reference type as the module wrote it (a type index for a
    concrete heap type), closed with the instance's defined types."""
    heap = reftype.heap
    if isinstance(heap, int):
        return ref_type(reftype.nullable, instance.types[heap])
    return reftype


def ref_eq(a: object, b: object) -> int:
    """``ref.eq``: the same reference; i31 references are the same when their values are."""
    return 1 if a is b or (a.__class__ is I31 and a == b) else 0


def _ref_eq(instance: ModuleInstance, imm: None) -> InstanceOperation:
    return InstanceOperation(ref_eq, (EQREF, EQREF), I32)


def _ref_as_non_null(instance: ModuleInstance, imm: None) -> InstanceOperation:
    def as_non_null(value: object) -> object:
        if value is None:
            raise Trap(TrapKind.NULL_REFERENCE)
        return value
    return InstanceOperation(as_non_null, (ANYREF,), ANYREF)


def _ref_test(instance: ModuleInstance, imm: RefType) -> InstanceOperation:
    target = closed_ref_type(instance, imm)
    return InstanceOperation(lambda value: 1 if ref_matches(value, target) else 0, (ANYREF,), I32)


def _ref_cast(instance: ModuleInstance, imm: RefType) -> InstanceOperation:
    target = closed_ref_type(instance, imm)

    def cast(value: object) -> object:
        if not ref_matches(value, target):
            raise Trap(TrapKind.CAST_FAILURE)
        return value
    return InstanceOperation(cast, (ANYREF,), ANYREF)


def any_convert_extern(value: object) -> object:
    """An ``externref`` as an ``anyref``: an externalized struct, array or
    i31 is itself again, any other host value is wrapped."""
    if value is None or isinstance(value, (GcStruct, GcArray, I31)):
        return value
    return HostRef(value)


def extern_convert_any(value: object) -> object:
    """An ``anyref`` as an ``externref``: a wrapped host value is unwrapped."""
    return value.value if value.__class__ is HostRef else value  # type: ignore[attr-defined]


def _any_convert_extern(instance: ModuleInstance, imm: None) -> InstanceOperation:
    return InstanceOperation(any_convert_extern, (EXTERNREF,), ANYREF)


def _extern_convert_any(instance: ModuleInstance, imm: None) -> InstanceOperation:
    return InstanceOperation(extern_convert_any, (ANYREF,), EXTERNREF)


def ref_i31(value: int) -> I31:
    return I31(value & I31_MASK)


def _ref_i31(instance: ModuleInstance, imm: None) -> InstanceOperation:
    return InstanceOperation(ref_i31, (I32,), I31REF)


def _i31_get(signed: bool) -> Builder:
    def get(value: I31 | None) -> int:
        if value is None:
            raise Trap(TrapKind.NULL_I31)
        return value.signed & MASK32 if signed else value.value

    def build(instance: ModuleInstance, imm: None) -> InstanceOperation:
        return InstanceOperation(get, (I31REF,), I32)
    return build


# --- structs and arrays -------------------------------------------------------------------

def packer(field: FieldType) -> Callable[[Any], Any] | None:
    """What storing a value into ``field`` does to it: keep the low bits of
    a packed field (``None``: nothing)."""
    storage = field.storage
    if storage is PackedType.I8:
        return lambda value: value & 0xFF
    if storage is PackedType.I16:
        return lambda value: value & 0xFFFF
    return None


def unpacker(field: FieldType, signed: bool) -> Callable[[Any], Any] | None:
    """What reading ``field`` with ``get_s`` (``signed``) or ``get_u`` does to
    its bits (``None``: nothing)."""
    storage = field.storage
    if not signed or not isinstance(storage, PackedType):
        return None
    bits = 8 * storage.width
    sign = 1 << (bits - 1)
    return lambda value: ((value ^ sign) - sign) & MASK32


def _struct_type(instance: ModuleInstance, index: int) -> tuple[DefinedType, tuple[FieldType, ...]]:
    defined = instance.types[index]
    return defined, defined.comp.fields  # type: ignore[union-attr]


def _struct_new(instance: ModuleInstance, imm: int) -> InstanceOperation:
    defined, fields = _struct_type(instance, imm)
    packers = [(position, pack) for position, field in enumerate(fields) if (pack := packer(field)) is not None]

    def new(*values: Any) -> GcStruct:
        stored = list(values)
        for position, pack in packers:
            stored[position] = pack(stored[position])
        return GcStruct(defined, stored)
    return InstanceOperation(new, tuple(field.unpacked for field in fields), ref_type(False, defined))


def _struct_new_default(instance: ModuleInstance, imm: int) -> InstanceOperation:
    defined, fields = _struct_type(instance, imm)
    defaults = [default_value(field.storage) for field in fields]
    return InstanceOperation(lambda: GcStruct(defined, list(defaults)), (), ref_type(False, defined))


def _struct_get(signed: bool) -> Builder:
    def build(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
        defined, fields = _struct_type(instance, imm[0])
        position = imm[1]
        unpack = unpacker(fields[position], signed)

        def get(struct: GcStruct | None) -> Any:
            if struct is None:
                raise Trap(TrapKind.NULL_STRUCT)
            value = struct.fields[position]
            return value if unpack is None else unpack(value)
        return InstanceOperation(get, (ref_type(True, defined),), fields[position].unpacked)
    return build


def _struct_set(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    defined, fields = _struct_type(instance, imm[0])
    position = imm[1]
    pack = packer(fields[position])

    def set_field(struct: GcStruct | None, value: Any) -> None:
        if struct is None:
            raise Trap(TrapKind.NULL_STRUCT)
        struct.fields[position] = value if pack is None else pack(value)
    return InstanceOperation(set_field, (ref_type(True, defined), fields[position].unpacked), None)


MAX_ARRAY_LENGTH = 1 << 26
"""The longest array this engine allocates (64 Mi elements); a longer one is
refused with a ``ResourceLimitError``, never by exhausting the host."""


def _array_type(instance: ModuleInstance, index: int) -> tuple[DefinedType, FieldType]:
    defined = instance.types[index]
    return defined, defined.comp.field  # type: ignore[union-attr]


def _checked_length(length: int) -> int:
    if length > MAX_ARRAY_LENGTH:
        raise ResourceLimitError(f"an array of {length} elements exceeds this engine's limit of "
                                 f"{MAX_ARRAY_LENGTH}")
    return length


def _array_new(instance: ModuleInstance, imm: int) -> InstanceOperation:
    defined, element = _array_type(instance, imm)
    pack = packer(element)

    def new(value: Any, length: int) -> GcArray:
        stored = value if pack is None else pack(value)
        return GcArray(defined, [stored] * _checked_length(length))
    return InstanceOperation(new, (element.unpacked, I32), ref_type(False, defined))


def _array_new_default(instance: ModuleInstance, imm: int) -> InstanceOperation:
    defined, element = _array_type(instance, imm)
    default = default_value(element.storage)
    return InstanceOperation(lambda length: GcArray(defined, [default] * _checked_length(length)), (I32,),
                             ref_type(False, defined))


def _array_new_fixed(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    defined, element = _array_type(instance, imm[0])
    pack = packer(element)

    def new(*values: Any) -> GcArray:
        return GcArray(defined, list(values) if pack is None else [pack(value) for value in values])
    return InstanceOperation(new, (element.unpacked,) * imm[1], ref_type(False, defined))


_ELEMENT_WIDTHS = {ValType.I32: 4, ValType.I64: 8, ValType.F32: 4, ValType.F64: 8, ValType.V128: 16}


def _data_reader(element: FieldType) -> tuple[int, Callable[[bytes], Any]]:
    """The width in bytes of an array element in a data segment, and how to
    read one from its bytes (little-endian)."""
    storage = element.storage
    if isinstance(storage, PackedType):
        return storage.width, lambda raw: int.from_bytes(raw, "little")
    width = _ELEMENT_WIDTHS[storage]
    if storage is ValType.F32:
        return width, lambda raw: f32_from_bits(int.from_bytes(raw, "little"))
    if storage is ValType.F64:
        return width, lambda raw: f64_from_bits(int.from_bytes(raw, "little"))
    return width, lambda raw: int.from_bytes(raw, "little")


def _data_elements(element: FieldType) -> Callable[[bytes, int, int], list[Any]]:
    """Reads ``length`` elements from a data segment at ``offset`` ("out of
    bounds memory access" past its end, as the spec says)."""
    width, read = _data_reader(element)

    def elements(data: bytes, offset: int, length: int) -> list[Any]:
        end = offset + length * width
        if end > len(data):
            raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
        return [read(data[start:start + width]) for start in range(offset, end, width)]
    return elements


def _segment_elements(segment: list, offset: int, length: int) -> list[Any]:
    if offset + length > len(segment):
        raise Trap(TrapKind.TABLE_OUT_OF_BOUNDS)
    return segment[offset:offset + length]


def _array_new_data(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    defined, element = _array_type(instance, imm[0])
    datas, data_index = instance.datas, imm[1]
    elements = _data_elements(element)
    return InstanceOperation(lambda offset, length: GcArray(defined, elements(datas[data_index], offset, length)),
                             (I32, I32), ref_type(False, defined))


def _array_new_elem(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    defined, _ = _array_type(instance, imm[0])
    elems, elem_index = instance.elems, imm[1]
    return InstanceOperation(
        lambda offset, length: GcArray(defined, _segment_elements(elems[elem_index], offset, length)),
        (I32, I32), ref_type(False, defined))


def _non_null_array(array: GcArray | None) -> list[Any]:
    if array is None:
        raise Trap(TrapKind.NULL_ARRAY)
    return array.elements


def _in_bounds(elements: list[Any], offset: int, length: int) -> None:
    if offset + length > len(elements):
        raise Trap(TrapKind.ARRAY_OUT_OF_BOUNDS)


def _array_get(signed: bool) -> Builder:
    def build(instance: ModuleInstance, imm: int) -> InstanceOperation:
        defined, element = _array_type(instance, imm)
        unpack = unpacker(element, signed)

        def get(array: GcArray | None, index: int) -> Any:
            elements = _non_null_array(array)
            if index >= len(elements):
                raise Trap(TrapKind.ARRAY_OUT_OF_BOUNDS)
            value = elements[index]
            return value if unpack is None else unpack(value)
        return InstanceOperation(get, (ref_type(True, defined), I32), element.unpacked)
    return build


def _array_set(instance: ModuleInstance, imm: int) -> InstanceOperation:
    defined, element = _array_type(instance, imm)
    pack = packer(element)

    def set_element(array: GcArray | None, index: int, value: Any) -> None:
        elements = _non_null_array(array)
        if index >= len(elements):
            raise Trap(TrapKind.ARRAY_OUT_OF_BOUNDS)
        elements[index] = value if pack is None else pack(value)
    return InstanceOperation(set_element, (ref_type(True, defined), I32, element.unpacked), None)


def _array_len(instance: ModuleInstance, imm: None) -> InstanceOperation:
    return InstanceOperation(lambda array: len(_non_null_array(array)), (ARRAYREF,), I32)


def _array_fill(instance: ModuleInstance, imm: int) -> InstanceOperation:
    defined, element = _array_type(instance, imm)
    pack = packer(element)

    def fill(array: GcArray | None, offset: int, value: Any, length: int) -> None:
        elements = _non_null_array(array)
        _in_bounds(elements, offset, length)
        elements[offset:offset + length] = [value if pack is None else pack(value)] * length
    return InstanceOperation(fill, (ref_type(True, defined), I32, element.unpacked, I32), None)


def _array_copy(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    destination_type, _ = _array_type(instance, imm[0])
    source_type, _ = _array_type(instance, imm[1])

    def copy(destination: GcArray | None, at: int, source: GcArray | None, start: int, length: int) -> None:
        target = _non_null_array(destination)
        origin = _non_null_array(source)
        _in_bounds(target, at, length)
        _in_bounds(origin, start, length)
        target[at:at + length] = origin[start:start + length]  # a copy first: overlapping ranges are safe
    return InstanceOperation(copy, (ref_type(True, destination_type), I32, ref_type(True, source_type), I32, I32),
                             None)


def _array_init_data(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    defined, element = _array_type(instance, imm[0])
    datas, data_index = instance.datas, imm[1]
    elements = _data_elements(element)

    def init(array: GcArray | None, at: int, offset: int, length: int) -> None:
        target = _non_null_array(array)
        _in_bounds(target, at, length)
        target[at:at + length] = elements(datas[data_index], offset, length)
    return InstanceOperation(init, (ref_type(True, defined), I32, I32, I32), None)


def _array_init_elem(instance: ModuleInstance, imm: tuple[int, int]) -> InstanceOperation:
    defined, _ = _array_type(instance, imm[0])
    elems, elem_index = instance.elems, imm[1]

    def init(array: GcArray | None, at: int, offset: int, length: int) -> None:
        target = _non_null_array(array)
        _in_bounds(target, at, length)
        target[at:at + length] = _segment_elements(elems[elem_index], offset, length)
    return InstanceOperation(init, (ref_type(True, defined), I32, I32, I32), None)


_BUILDERS: dict[str, Builder] = {
    "memory.init": _memory_init, "data.drop": _data_drop, "elem.drop": _elem_drop,
    "table.copy": _table_copy, "table.init": _table_init, "table.get": _table_get, "table.set": _table_set,
    "table.size": _table_size, "table.grow": _table_grow, "table.fill": _table_fill,
    "i64.add128": _wide(numerics.add128, 4), "i64.sub128": _wide(numerics.sub128, 4),
    "i64.mul_wide_s": _wide(numerics.multiply_wide_signed, 2),
    "i64.mul_wide_u": _wide(numerics.multiply_wide_unsigned, 2),
    "throw": _throw, "throw_ref": _throw_ref,
    "ref.eq": _ref_eq, "ref.as_non_null": _ref_as_non_null, "ref.test": _ref_test, "ref.cast": _ref_cast,
    "any.convert_extern": _any_convert_extern, "extern.convert_any": _extern_convert_any,
    "ref.i31": _ref_i31, "i31.get_s": _i31_get(True), "i31.get_u": _i31_get(False),
    "struct.new": _struct_new, "struct.new_default": _struct_new_default, "struct.get": _struct_get(False),
    "struct.get_s": _struct_get(True), "struct.get_u": _struct_get(False), "struct.set": _struct_set,
    "array.new": _array_new, "array.new_default": _array_new_default, "array.new_fixed": _array_new_fixed,
    "array.new_data": _array_new_data, "array.new_elem": _array_new_elem, "array.get": _array_get(False),
    "array.get_s": _array_get(True), "array.get_u": _array_get(False), "array.set": _array_set,
    "array.len": _array_len, "array.fill": _array_fill, "array.copy": _array_copy,
    "array.init_data": _array_init_data, "array.init_elem": _array_init_elem,
}
"""The ``RUNTIME`` instructions that are not vector instructions."""


def _check_complete() -> None:
    """Every ``RUNTIME`` instruction of the table has its function (at import:
    a table row without one is a mistake to report at once)."""
    for operation in OPS:
        if operation.semantics is RUNTIME and operation.name not in _BUILDERS:
            if operation.prefix != PREFIX_SIMD:
                raise RuntimeError(f"no Python function runs {operation.name}")
            vector_function(operation)


_check_complete()
