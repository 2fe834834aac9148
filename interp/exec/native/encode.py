"""The compiled loop's code format: a lowered function encoded as 64-bit words.

Every instruction becomes four words ``[opcode, a, b, c]`` in an ``array('q')``
(so instruction ``pc`` starts at word ``4 * pc`` and the pc↔instruction
correspondence of the lowered form is kept, for fuel, traps and backtraces).
Operands are slot numbers within the frame (locals first, then the operand
stack at fixed positions, see interp/translate/lower.py) or immediates; branch
tables and other wide operands live in a second array, ``side``.

How an instruction is encoded follows from its semantics in the table
(interp/syntax/semantics.py): a ``Compute`` instruction is its own opcode over
the slots of its operands (the result replaces the first), an ``Access`` its
opcode, the address slot and the static offset, a ``RUNTIME`` instruction
``pyop`` — its Python function (instance_ops.py), called from C — and only
the ``MACHINE`` instructions have encoders here, in terms of the loop's own
instructions (``cython_semantics.LOOP_OPERATIONS``).  The opcode numbers are
the built loop's (``loop.OPCODES``).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Protocol

from interp.exec.instance_ops import instance_operation
from interp.runtime.instance import ModuleInstance
from interp.runtime.references import ref_matches
from interp.syntax.opcodes import Imm, Op
from interp.syntax.semantics import RUNTIME, Access, Compute
from interp.syntax.types import ValType
from interp.syntax.values import f32_to_bits, f64_to_bits
from interp.translate.lower import Branch, LoweredFunction, Return

_TYPE_CODES = {ValType.I32: 0, ValType.I64: 1, ValType.F32: 2, ValType.F64: 3, ValType.V128: 4}
REFERENCE = 5
"""The type code of every reference type: a reference is a handle (see the loop's ``ref_handle``)."""
NO_RESULT = -1
RETURN_TARGET = -1  # in a branch table entry: leave the function


def type_code(valtype: ValType) -> int:
    """How the loop holds a value of ``valtype`` in a slot (the ``T_*`` codes of loop.pyx.in)."""
    return _TYPE_CODES.get(valtype, REFERENCE)


class Registry(Protocol):
    """What the compiled loop keeps for the encoder: ids for the runtime objects
    that instructions refer to."""

    def function_id(self, func: object) -> int: ...

    def global_id(self, cell: object) -> int: ...

    def memory_id(self, memory: object) -> int: ...

    def table_id(self, table: object) -> int: ...

    def type_id(self, func_type: object) -> int: ...

    def ref_handle(self, value: object) -> int: ...

    def python_op(self, op: PythonOp) -> int: ...


@dataclass(frozen=True)
class PythonOp:
    """An instruction run by a Python function: its operands are the top
    ``len(params)`` stack values, its result (if any) replaces the first."""

    function: Callable[..., Any]
    params: tuple[int, ...]  # type codes
    result: int              # type code, or NO_RESULT
    name: str


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


class _Encoder:
    def __init__(self, lowered: LoweredFunction, instance: ModuleInstance, registry: Registry,
                 opcodes: dict[str, int]) -> None:
        self.lowered = lowered
        self.instance = instance
        self.registry = registry
        self.opcodes = opcodes
        self.code = array("q")
        self.side = array("q")
        self.locals = lowered.num_locals

    def emit(self, name: str, a: int = 0, b: int = 0, c: int = 0) -> None:
        self.code.extend((self.opcodes[name], a, b, c))

    def slot(self, height: int) -> int:
        return self.locals + height

    def branch_entry(self, target: Branch | Return) -> int:
        """Append a branch to the side array: ``[target, dst, src, arity]``."""
        index = len(self.side)
        if isinstance(target, Return):
            self.side.extend((RETURN_TARGET, 0, self.slot(target.source), len(self.lowered.type.results)))
        else:
            arity = target.arity if target.moves_values else 0
            self.side.extend((target.target, self.slot(target.height), self.slot(target.source), arity))
        return index

    def python_op(self, name: str, function: Callable[..., Any], params: tuple[ValType, ...],
                  result: ValType | None, top: int) -> None:
        self.emit("pyop", self.python_op_id(name, function, params, result), top - len(params))

    def python_op_id(self, name: str, function: Callable[..., Any], params: tuple[ValType, ...],
                     result: ValType | None) -> int:
        op = PythonOp(function, tuple(type_code(t) for t in params),
                      NO_RESULT if result is None else type_code(result), name)
        return self.registry.python_op(op)


def encode_function(lowered: LoweredFunction, instance: ModuleInstance, registry: Registry,
                    opcodes: dict[str, int]) -> tuple[array, array]:
    """The ``(code, side)`` arrays of a lowered function bound to ``instance``."""
    encoder = _Encoder(lowered, instance, registry, opcodes)
    for pc, operation in enumerate(lowered.ops):
        top = encoder.slot(lowered.heights[pc])
        semantics = operation.semantics
        imm = lowered.imms[pc]
        if isinstance(semantics, Compute):
            first = top - len(operation.params or ())
            encoder.emit(operation.name, first, first + 1, first + 2)
        elif isinstance(semantics, Access):
            encoder.emit(operation.name, top - len(operation.params or ()), imm[1])
        elif semantics is RUNTIME:
            found = instance_operation(instance, operation, imm)
            encoder.python_op(operation.name, found.function, found.params, found.result, top)
        else:
            _MACHINE_ENCODERS[operation.name](encoder, operation, imm, top)
    return encoder.code, encoder.side


# --- the MACHINE instructions, in the loop's own instructions -------------------------

def _nop(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("nop")


def _unreachable(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("unreachable")


def _if(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("if", top - 1, imm)


def _else(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("jump", imm)


def _return(e: _Encoder, result: Return) -> None:
    e.emit("return", e.slot(result.source), len(e.lowered.type.results))


def _br(e: _Encoder, operation: Op, imm: Branch | Return, top: int) -> None:
    if isinstance(imm, Return):
        _return(e, imm)
    elif imm.moves_values:
        e.emit("br_move", imm.target, e.branch_entry(imm))
    else:
        e.emit("jump", imm.target)


def _br_if(e: _Encoder, operation: Op, imm: Branch | Return, top: int) -> None:
    if isinstance(imm, Branch) and not imm.moves_values:
        e.emit("br_if", top - 1, imm.target)
    else:
        e.emit("br_if_entry", top - 1, e.branch_entry(imm))


def _br_table(e: _Encoder, operation: Op, imm: tuple, top: int) -> None:
    targets, default = imm
    first = len(e.side)
    for target in (*targets, default):
        e.branch_entry(target)
    e.emit("br_table", top - 1, first, len(targets))


def _end(e: _Encoder, operation: Op, imm: Return | None, top: int) -> None:
    if isinstance(imm, Return):
        _return(e, imm)
    else:
        e.emit("nop")


def _return_instr(e: _Encoder, operation: Op, imm: Return, top: int) -> None:
    _return(e, imm)


def _call(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    callee = e.instance.funcs[imm]
    e.emit("call", e.registry.function_id(callee), top - len(callee.type.params))


def _call_indirect(e: _Encoder, operation: Op, imm: tuple[int, int], top: int) -> None:
    type_index, table_index = imm
    defined = e.instance.types[type_index]
    index_slot = top - 1
    e.emit("call_indirect", e.registry.table_id(e.instance.tables[table_index]),
           e.registry.type_id(defined), (index_slot << 32) | (index_slot - len(defined.comp.params)))


def _call_ref(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    """``[call_ref, reference slot, first argument slot]``."""
    reference_slot = top - 1
    e.emit("call_ref", reference_slot, reference_slot - len(e.instance.types[imm].comp.params))


def _br_on_null(e: _Encoder, operation: Op, imm: Branch | Return, top: int) -> None:
    """``[br_on_null | br_on_non_null, reference slot, branch entry]``."""
    e.emit(operation.name, top - 1, e.branch_entry(imm))


def _br_on_cast(e: _Encoder, operation: Op, imm: tuple, top: int) -> None:
    """``[br_on_test, reference slot, branch entry, test]``: the test is a
    Python function of the reference, true when the branch is taken."""
    branch, target = imm
    if operation.name == "br_on_cast":
        def test(value: object) -> int:
            return 1 if ref_matches(value, target) else 0
    else:
        def test(value: object) -> int:
            return 0 if ref_matches(value, target) else 1
    test_id = e.python_op_id(operation.name, test, (target,), ValType.I32)
    e.emit("br_on_test", top - 1, e.branch_entry(branch), test_id)


def _select(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("select", top - 3, top - 2, top - 1)


def _local_get(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("copy", top, imm)


def _local_set(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("copy", imm, top - 1)


def _global_get(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("global.get", top, e.registry.global_id(e.instance.globals[imm]))


def _global_set(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("global.set", top - 1, e.registry.global_id(e.instance.globals[imm]))


def _const(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    kind = operation.imm
    if kind is Imm.F32:
        bits = f32_to_bits(imm)
    elif kind is Imm.F64:
        bits = f64_to_bits(imm)
    elif kind is Imm.V128:
        e.emit("const128", top, _signed64(imm & 0xFFFF_FFFF_FFFF_FFFF), _signed64(imm >> 64))
        return
    else:
        bits = imm
    e.emit("const", top, _signed64(bits))


def _ref_null(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("const", top, 0)


def _ref_func(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("const", top, e.registry.ref_handle(e.instance.funcs[imm]))


def _ref_is_null(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("ref.is_null", top - 1)


def _memory_op(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    """``memory.size`` / ``grow`` / ``fill``: ``[op, first operand slot, memory id]``."""
    operands = len(operation.params or ())
    e.emit(operation.name, top - operands, e.registry.memory_id(e.instance.memories[imm]))


def _memory_copy(e: _Encoder, operation: Op, imm: tuple[int, int], top: int) -> None:
    destination, source = (e.instance.memories[index] for index in imm)
    if destination is source:
        e.emit("memory.copy", top - 3, e.registry.memory_id(destination))
    else:
        i32 = ValType.I32
        e.python_op(operation.name, partial(destination.copy_from, source), (i32, i32, i32), None, top)


_MACHINE_ENCODERS: dict[str, Callable[[_Encoder, Op, Any, int], None]] = {
    "nop": _nop, "block": _nop, "loop": _nop, "drop": _nop, "end": _end,
    "unreachable": _unreachable, "if": _if, "else": _else, "br": _br, "br_if": _br_if,
    "br_table": _br_table, "return": _return_instr, "call": _call, "call_indirect": _call_indirect,
    "call_ref": _call_ref, "br_on_null": _br_on_null, "br_on_non_null": _br_on_null, "br_on_cast": _br_on_cast,
    "br_on_cast_fail": _br_on_cast,
    "select": _select, "local.get": _local_get, "local.set": _local_set, "local.tee": _local_set,
    "global.get": _global_get, "global.set": _global_set,
    "i32.const": _const, "i64.const": _const, "f32.const": _const, "f64.const": _const, "v128.const": _const,
    "ref.null": _ref_null, "ref.func": _ref_func, "ref.is_null": _ref_is_null,
    "memory.size": _memory_op, "memory.grow": _memory_op, "memory.fill": _memory_op,
    "memory.copy": _memory_copy,
}
