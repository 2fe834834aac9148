"""The ``RUNTIME`` instructions of the table (interp/syntax/semantics.py):
tables, element and data segments, ``memory.init``, the 128-bit arithmetic
of wide-arithmetic (two results each), throwing exceptions (exceptions.py)
and the vector instructions, as plain Python functions bound to one instance
(their immediates folded in).

Both engines run these through ``instance_operation``: the step machine
(bind.py) wraps the function in a closure over its operand slots, the compiled
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

from interp.exec import f32x4, f64x2, i8x16, i16x8, i32x4, i64x2, numerics, simd_memory, v128
from interp.exec.exceptions import throw, throw_ref
from interp.runtime.instance import ModuleInstance
from interp.syntax.opcodes import OPS, PREFIX_SIMD, Imm, Op
from interp.syntax.semantics import RUNTIME
from interp.syntax.types import I32, I64, ValType
from interp.syntax.values import MASK32, MASK64


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


_BUILDERS: dict[str, Builder] = {
    "memory.init": _memory_init, "data.drop": _data_drop, "elem.drop": _elem_drop,
    "table.copy": _table_copy, "table.init": _table_init, "table.get": _table_get, "table.set": _table_set,
    "table.size": _table_size, "table.grow": _table_grow, "table.fill": _table_fill,
    "i64.add128": _wide(numerics.add128, 4), "i64.sub128": _wide(numerics.sub128, 4),
    "i64.mul_wide_s": _wide(numerics.multiply_wide_signed, 2),
    "i64.mul_wide_u": _wide(numerics.multiply_wide_unsigned, 2),
    "throw": _throw, "throw_ref": _throw_ref,
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
