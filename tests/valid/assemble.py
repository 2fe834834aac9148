"""Small modules for the validator tests, built directly as abstract syntax.

The validator is tested on its own, without the text parser, so the tests
write instructions as short strings (``"i32.const 1"``, ``"block i32"``,
``"br_table 0 1 0"``) that ``code`` turns into ``Instruction`` values by
reading the immediate kind from the opcode table.  Each instruction's offset is
its position in the sequence, so tests can assert where an error was found.
"""

from __future__ import annotations

from interp.syntax.module import (
    Data,
    Elem,
    Export,
    Expr,
    Func,
    Global,
    Import,
    Instruction,
    Module,
    SegmentMode,
)
from interp.syntax.opcodes import OPS_BY_NAME, SELECT_TYPED, Imm, MemArg, Op
from interp.syntax.types import (
    EXTERNREF,
    F32,
    FUNCREF,
    I32,
    I64,
    ExternKind,
    FuncType,
    GlobalType,
    HeapKind,
    Limits,
    MemoryType,
    TableType,
    ValType,
)

TYPED_SELECT = "select_typed"
"""The name tests use for the typed ``select`` (the text format writes both
forms as ``select``)."""

_SINGLE_INDEX = {Imm.LABEL, Imm.FUNC, Imm.LOCAL, Imm.GLOBAL, Imm.TABLE, Imm.ELEM, Imm.DATA, Imm.MEMORY}
_INDEX_PAIR_DEFAULTS = {
    Imm.CALL_INDIRECT: None,  # type index required, table 0 by default
    Imm.TABLE_INIT: None,  # elem index required, table 0 by default
    Imm.MEMORY_INIT: None,  # data index required, memory 0 by default
    Imm.TABLE_COPY: 0,
    Imm.MEMORY_COPY: 0,
}


def _valtype(word: str) -> ValType:
    valtype = ValType.from_text(word)
    if valtype is None:
        raise ValueError(f"not a value type: {word!r}")
    return valtype


def _immediate(op: Op, args: list[str]) -> object:
    kind = op.imm
    if kind is Imm.NONE:
        if args:
            raise ValueError(f"{op.name} takes no immediates")
        return None
    if kind is Imm.BLOCKTYPE:
        if not args:
            return None
        return int(args[0]) if args[0].isdigit() else _valtype(args[0])
    if kind in _SINGLE_INDEX:
        return int(args[0]) if args else 0
    if kind is Imm.BR_TABLE:
        depths = [int(arg) for arg in args]
        return tuple(depths[:-1]), depths[-1]
    if kind in _INDEX_PAIR_DEFAULTS:
        first = int(args[0]) if args else _INDEX_PAIR_DEFAULTS[kind]
        if first is None:
            raise ValueError(f"{op.name} needs an index")
        return first, int(args[1]) if len(args) > 1 else 0
    if kind is Imm.MEMARG:
        alignment = int(args[0]) if args else op.natural_alignment
        return MemArg(alignment, int(args[1]) if len(args) > 1 else 0, int(args[2]) if len(args) > 2 else 0)
    if kind is Imm.I32:
        return int(args[0]) & 0xFFFF_FFFF if args else 0
    if kind is Imm.I64:
        return int(args[0]) & 0xFFFF_FFFF_FFFF_FFFF if args else 0
    if kind in (Imm.F32, Imm.F64):
        return int(args[0]) if args else 0
    if kind is Imm.HEAPTYPE:
        heap = _valtype(args[0]).heap if args[0].endswith("ref") else HeapKind.from_text(args[0])
        if heap is None:
            raise ValueError(f"not a heap type: {args[0]!r}")
        return heap
    if kind is Imm.SELECT_TYPES:
        return tuple(_valtype(arg) for arg in args)
    raise ValueError(f"cannot assemble immediates of kind {kind}")


def instruction(line: str, offset: int = -1) -> Instruction:
    name, *args = line.split()
    op = SELECT_TYPED if name == TYPED_SELECT else OPS_BY_NAME[name]
    return Instruction(op, _immediate(op, args), offset)


def code(*lines: str) -> tuple[Instruction, ...]:
    """The instructions written in ``lines``, with their positions as offsets."""
    return tuple(instruction(line, offset) for offset, line in enumerate(lines))


def expr(*lines: str) -> Expr:
    """An expression: ``lines`` followed by the terminating ``end``."""
    return code(*lines, "end")


def func_module(*lines: str, params: tuple[ValType, ...] = (), results: tuple[ValType, ...] = (),
                locals: tuple[ValType, ...] = (), **fields: object) -> Module:
    """A module whose type 0 is ``params -> results`` and whose first defined
    function has that type and the body ``lines`` + ``end``.  ``fields``
    override other ``Module`` fields; ``types`` given there follow type 0."""
    types = (FuncType(params, results), *fields.pop("types", ()))
    funcs = (Func(0, locals, expr(*lines)), *fields.pop("funcs", ()))
    return Module(types=types, funcs=funcs, **fields)  # type: ignore[arg-type]


TYPE_I32_TO_I32 = 1
TYPE_I32_I64_TO_F32 = 2
TYPE_TO_I32_I64 = 3
TYPE_I32_TO_I32_I64 = 4
ENVIRONMENT_TYPES = (
    FuncType((I32,), (I32,)),
    FuncType((I32, I64), (F32,)),
    FuncType((), (I32, I64)),
    FuncType((I32,), (I32, I64)),
)
"""Types 1.. of ``environment_module`` (type 0 is the function under test)."""

IMMUTABLE_I32_GLOBAL = 0
MUTABLE_I64_GLOBAL = 1
IMMUTABLE_F32_GLOBAL = 2
FUNCREF_TABLE = 0
EXTERNREF_TABLE = 1
FUNCREF_ELEM = 0
EXTERNREF_ELEM = 1
CALLEE = 1
"""Function 1 of ``environment_module``: ``[i32 i64] -> [f32]``, declared in
element segment 0, so ``ref.func 1`` is allowed; ``ref.func 0`` is not."""


def environment_module(*lines: str, params: tuple[ValType, ...] = (), results: tuple[ValType, ...] = (),
                       locals: tuple[ValType, ...] = (), **fields: object) -> Module:
    """``func_module`` in a module with something of every kind to refer to:
    the types above, an imported immutable i32 global and defined mutable i64
    and immutable f32 globals, a funcref and an externref table, a memory,
    a funcref and an externref passive element segment, and one passive data
    segment (with a data count section)."""
    defaults: dict[str, object] = dict(
        types=ENVIRONMENT_TYPES,
        imports=(Import("env", "g", GlobalType(I32, False)),),
        funcs=(Func(TYPE_I32_I64_TO_F32, (), expr("f32.const 0")),),
        tables=(TableType(Limits(1), FUNCREF), TableType(Limits(1), EXTERNREF)),
        memories=(MemoryType(Limits(1)),),
        globals=(Global(GlobalType(I64, True), expr("i64.const 0")),
                 Global(GlobalType(F32, False), expr("f32.const 0"))),
        elems=(Elem(FUNCREF, (expr(f"ref.func {CALLEE}"),), SegmentMode.PASSIVE),
               Elem(EXTERNREF, (expr("ref.null externref"),), SegmentMode.PASSIVE)),
        datas=(Data(b"x", SegmentMode.PASSIVE),),
        data_count=1,
    )
    defaults.update(fields)
    return func_module(*lines, params=params, results=results, locals=locals, **defaults)


def export(name: str, kind: ExternKind, index: int) -> Export:
    return Export(name, kind, index)
