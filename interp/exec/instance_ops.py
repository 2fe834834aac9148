"""Instructions whose semantics live in the runtime — tables, element and
data segments, bulk memory, vector loads and stores — and numeric
instructions (their immediate, if any, bound), as plain Python functions bound
to one instance.

Both engines run these through ``instance_operation``: the step machine
(bind.py) wraps the function in a closure over its operand slots, the compiled
loop (native/encode.py) calls it from C.  So each has one implementation,
here or in the runtime object it calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from interp.exec import simd_memory
from interp.syntax.opcodes import Imm, Op
from interp.syntax.types import ValType

if TYPE_CHECKING:
    from interp.runtime.instance import ModuleInstance

I32 = ValType.I32


@dataclass(frozen=True)
class InstanceOperation:
    """``function`` takes the instruction's operands (``params``, in stack
    order) and returns its result (of type ``result``), or ``None``."""

    function: Callable[..., Any]
    params: tuple[ValType, ...]
    result: ValType | None


def instance_operation(instance: ModuleInstance, operation: Op, imm: Any,
                       numeric: Callable[[Op], Callable[..., Any] | None]) -> InstanceOperation | None:
    """The function running ``operation`` (with immediate ``imm``) on
    ``instance``; ``numeric`` finds numeric implementations by name.  ``None``
    for instructions that are none of these."""
    name = operation.name
    if name.startswith("table.") or name == "elem.drop":
        return _table_operation(instance, name, imm)
    if name == "memory.init":
        data_index, memory_index = imm
        memory, datas = instance.memories[memory_index], instance.datas
        return InstanceOperation(lambda d, s, n: memory.init_from(datas[data_index], d, s, n), (I32,) * 3, None)
    if name == "data.drop":
        datas = instance.datas

        def drop_data() -> None:
            datas[imm] = b""
        return InstanceOperation(drop_data, (), None)
    if name == "memory.fill":
        memory = instance.memories[imm]
        return InstanceOperation(memory.fill, (I32,) * 3, None)
    if name == "memory.copy":
        destination, source = instance.memories[imm[0]], instance.memories[imm[1]]
        if destination is source:
            return InstanceOperation(destination.copy_within, (I32,) * 3, None)
        return InstanceOperation(lambda d, s, n: destination.write(d, source.read(s, n)), (I32,) * 3, None)
    if operation.prefix is not None and operation.imm in (Imm.MEMARG, Imm.MEMARG_LANE):
        return _vector_memory_operation(instance, operation, imm)
    function = numeric(operation)
    if function is None or operation.params is None:
        return None
    if operation.imm is Imm.NONE:
        return InstanceOperation(function, operation.params, _result(operation))
    plain = function  # an immediate (a lane, a shuffle) goes after the operands
    return InstanceOperation(lambda *args: plain(*args, imm), operation.params, _result(operation))


def _result(operation: Op) -> ValType | None:
    return operation.results[0] if operation.results else None


def _vector_memory_operation(instance: ModuleInstance, operation: Op, imm: Any) -> InstanceOperation:
    """A v128 load or store (``simd_memory.py``: ``function(memory, address[,
    vector][, lane])``) with its static offset and lane folded in."""
    function = getattr(simd_memory, operation.name.partition(".")[2])
    memory = instance.memories[0].data
    if operation.imm is Imm.MEMARG_LANE:
        (_, offset), lane = imm
        run = lambda address, *vector: function(memory, address + offset, *vector, lane)  # noqa: E731
    else:
        offset = imm[1]
        run = lambda address, *vector: function(memory, address + offset, *vector)  # noqa: E731
    return InstanceOperation(run, operation.params, _result(operation))


def _table_operation(instance: ModuleInstance, name: str, imm: Any) -> InstanceOperation:
    if name == "table.copy":
        destination, source = instance.tables[imm[0]], instance.tables[imm[1]]
        return InstanceOperation(lambda d, s, n: destination.copy_from(source, d, s, n), (I32,) * 3, None)
    if name == "table.init":
        elems, table = instance.elems, instance.tables[imm[1]]
        return InstanceOperation(lambda d, s, n: table.init_from(elems[imm[0]], d, s, n), (I32,) * 3, None)
    if name == "elem.drop":
        elems = instance.elems

        def drop_elem() -> None:
            elems[imm] = []
        return InstanceOperation(drop_elem, (), None)
    table = instance.tables[imm]
    ref = table.type.elem
    if name == "table.get":
        return InstanceOperation(table.get, (I32,), ref)
    if name == "table.set":
        return InstanceOperation(table.set, (I32, ref), None)
    if name == "table.size":
        return InstanceOperation(lambda: table.size, (), I32)
    if name == "table.grow":
        return InstanceOperation(lambda value, delta: table.grow(delta, value) & 0xFFFF_FFFF, (ref, I32), I32)
    if name == "table.fill":
        return InstanceOperation(table.fill, (I32, ref, I32), None)
    raise ValueError(f"not a table instruction: {name}")
