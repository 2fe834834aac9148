"""Binding: a lowered function turned into executable Python for one module
instance — one small closure per instruction.

Each closure takes the frame's slot list ``R`` (locals, then the operand stack
at fixed positions, see lower.py) and returns the ``pc`` to execute next, or one
of the negative codes below for what the machine's loop does itself (calls and
returns change frames, which a closure cannot).  The closures capture
everything else they need — the instance's memory bytes, globals, tables and
functions, their operand slots, their successor ``pc`` — when the function is
bound, so executing one is a single call with no decoding and no lookups.

The semantics of numeric instructions live in the numeric modules
(``interp/exec/i32.py`` ..., the vector ones in ``v128.py``, ``i8x16.py`` ...
and ``simd_memory.py``), found by the instruction's name in the opcode table;
this module only adds the operand and result slots around them.
"""

from __future__ import annotations

import keyword
import struct
from typing import TYPE_CHECKING, Any, Callable

from interp.errors import Trap
from interp.exec import f32 as f32_ops
from interp.exec import f32x4 as f32x4_ops
from interp.exec import f64 as f64_ops
from interp.exec import f64x2 as f64x2_ops
from interp.exec import i8x16 as i8x16_ops
from interp.exec import i16x8 as i16x8_ops
from interp.exec import i32 as i32_ops
from interp.exec import i32x4 as i32x4_ops
from interp.exec import i64 as i64_ops
from interp.exec import i64x2 as i64x2_ops
from interp.exec import v128 as v128_ops
from interp.exec.instance_ops import instance_operation
from interp.exec.lower import Branch, LoweredFunction, Return
from interp.runtime.memory import OUT_OF_BOUNDS as MEMORY_OUT_OF_BOUNDS
from interp.syntax.opcodes import OPS, Imm, Op
from interp.syntax.types import FuncType
from interp.syntax.values import MASK32, MASK64, default_value, f32_from_bits, f32_to_bits

if TYPE_CHECKING:
    from interp.runtime.function import WasmFunction
    from interp.runtime.instance import ModuleInstance

CALL = -1           # call the function in ``BoundFunction.sites[pc]``
CALL_INDIRECT = -2  # call through the table described in ``sites[pc]``
RETURN = -3         # the closure has moved the results to slots 0..k-1
BREAK = -4          # a debugger's breakpoint: stop before this instruction

Handler = Callable[[list], int]


class IndirectCall:
    """What a ``call_indirect`` site needs at run time."""

    __slots__ = ("table", "type", "index_slot")

    def __init__(self, table: Any, type: FuncType, index_slot: int) -> None:
        self.table = table
        self.type = type
        self.index_slot = index_slot


class BoundFunction:
    """A function ready to run on the step machine.

    ``code[pc]`` is the closure for instruction ``pc``; ``sites[pc]`` holds the
    callee (a function instance) or an ``IndirectCall`` for call instructions and
    ``None`` elsewhere; ``arg_slots[pc]`` the slot of a call's first argument;
    ``tail`` the initial values of the declared locals and the stack slots,
    appended to the arguments to make a new frame.

    ``fast[pc]`` is what the machine runs at ``pc`` when it need not stop
    between instructions, executing ``fast_costs[pc]`` instructions: the
    closures (cost 1) until the function is hot, then its compiled blocks
    (blocks.py).  ``calls`` counts calls; at ``compile_at`` calls the blocks
    are compiled (0: never).  ``stepping`` is what runs when the machine
    pauses between instructions: ``code``, or a debugger's copy of it with
    breakpoints patched in (which only ever run when pausing).
    """

    __slots__ = ("func", "lowered", "code", "sites", "arg_slots", "tail", "num_params", "num_results",
                 "unit_costs", "fast", "fast_costs", "blocks", "calls", "compile_at", "stepping")

    def __init__(self, func: WasmFunction, lowered: LoweredFunction, code: list[Handler],
                 sites: list, arg_slots: list[int]) -> None:
        self.func = func
        self.lowered = lowered
        self.code = code
        self.sites = sites
        self.arg_slots = arg_slots
        self.num_params = len(lowered.type.params)
        self.num_results = len(lowered.type.results)
        self.tail = [default_value(t) for t in lowered.local_types] + [0] * lowered.max_height
        self.unit_costs = [1] * len(code)
        self.fast = code
        self.fast_costs = self.unit_costs
        self.blocks: Any = None
        self.calls = 0
        self.compile_at = 0
        self.stepping = code  # what runs when pausing between instructions (a debugger patches a copy)


class _Site:
    """Everything a handler factory may need about one instruction."""

    __slots__ = ("instance", "lowered", "pc", "imm", "top", "next")

    def __init__(self, instance: ModuleInstance, lowered: LoweredFunction, pc: int) -> None:
        self.instance = instance
        self.lowered = lowered
        self.pc = pc
        self.imm = lowered.imms[pc]
        self.top = lowered.num_locals + lowered.heights[pc]  # first free stack slot
        self.next = pc + 1

    def slot(self, height: int) -> int:
        return self.lowered.num_locals + height


def bind_function(func: WasmFunction, lowered: LoweredFunction) -> BoundFunction:
    instance = func.instance
    code: list[Handler] = []
    sites: list = [None] * len(lowered.ops)
    arg_slots = [0] * len(lowered.ops)
    for pc, operation in enumerate(lowered.ops):
        site = _Site(instance, lowered, pc)
        if operation.name == "call":
            callee = instance.funcs[site.imm]
            sites[pc] = callee
            arg_slots[pc] = site.top - len(callee.type.params)
            code.append(_returning(CALL))
        elif operation.name == "call_indirect":
            type_index, table_index = site.imm
            func_type = instance.types[type_index]
            index_slot = site.top - 1
            sites[pc] = IndirectCall(instance.tables[table_index], func_type, index_slot)
            arg_slots[pc] = index_slot - len(func_type.params)
            code.append(_returning(CALL_INDIRECT))
        else:
            code.append(_FACTORIES[operation.id](site))
    return BoundFunction(func, lowered, code, sites, arg_slots)


def _returning(value: int) -> Handler:
    def handler(R: list) -> int:
        return value
    return handler


# --- control -----------------------------------------------------------------

def _next(site: _Site) -> Handler:
    nxt = site.next

    def handler(R: list) -> int:
        return nxt
    return handler


def _unreachable(site: _Site) -> Handler:
    def handler(R: list) -> int:
        raise Trap("unreachable")
    return handler


def _if(site: _Site) -> Handler:
    cond, nxt, otherwise = site.top - 1, site.next, site.imm

    def handler(R: list) -> int:
        return nxt if R[cond] else otherwise
    return handler


def _else(site: _Site) -> Handler:
    target = site.imm

    def handler(R: list) -> int:
        return target
    return handler


def _return(site: _Site, result: Return, arity: int) -> Handler:
    source = site.slot(result.source)
    if arity == 0 or source == 0:
        return _returning(RETURN)
    if arity == 1:
        def handler(R: list) -> int:
            R[0] = R[source]
            return RETURN
        return handler
    end = source + arity

    def handler_many(R: list) -> int:
        R[0:arity] = R[source:end]
        return RETURN
    return handler_many


def _jump(site: _Site, branch: Branch) -> Handler:
    """Unconditionally take ``branch`` (moving its values)."""
    target = branch.target
    if not branch.moves_values:
        def jump(R: list) -> int:
            return target
        return jump
    destination, source, arity = site.slot(branch.height), site.slot(branch.source), branch.arity
    if arity == 1:
        def jump_one(R: list) -> int:
            R[destination] = R[source]
            return target
        return jump_one
    end = source + arity

    def jump_many(R: list) -> int:
        R[destination:destination + arity] = R[source:end]
        return target
    return jump_many


def _take(site: _Site, target: Branch | Return) -> Handler:
    if isinstance(target, Return):
        return _return(site, target, len(site.lowered.type.results))
    return _jump(site, target)


def _br(site: _Site) -> Handler:
    return _take(site, site.imm)


def _br_if(site: _Site) -> Handler:
    cond, nxt = site.top - 1, site.next
    taken = _take(site, site.imm)

    def handler(R: list) -> int:
        if R[cond]:
            return taken(R)
        return nxt
    return handler


def _br_table(site: _Site) -> Handler:
    index = site.top - 1
    targets, default = site.imm
    handlers = [_take(site, target) for target in targets]
    fallback = _take(site, default)
    count = len(handlers)

    def handler(R: list) -> int:
        i = R[index]
        return handlers[i](R) if i < count else fallback(R)
    return handler


def _end(site: _Site) -> Handler:
    """The final ``end`` returns from the function; any other one does nothing."""
    if isinstance(site.imm, Return):
        return _take(site, site.imm)
    return _next(site)


# --- parametric and variable ---------------------------------------------------

def _select(site: _Site) -> Handler:
    a, b, cond, nxt = site.top - 3, site.top - 2, site.top - 1, site.next

    def handler(R: list) -> int:
        if not R[cond]:
            R[a] = R[b]
        return nxt
    return handler


def _local_get(site: _Site) -> Handler:
    local, top, nxt = site.imm, site.top, site.next

    def handler(R: list) -> int:
        R[top] = R[local]
        return nxt
    return handler


def _local_set(site: _Site) -> Handler:
    local, value, nxt = site.imm, site.top - 1, site.next

    def handler(R: list) -> int:
        R[local] = R[value]
        return nxt
    return handler


def _global_get(site: _Site) -> Handler:
    cell, top, nxt = site.instance.globals[site.imm], site.top, site.next

    def handler(R: list) -> int:
        R[top] = cell.value
        return nxt
    return handler


def _global_set(site: _Site) -> Handler:
    cell, value, nxt = site.instance.globals[site.imm], site.top - 1, site.next

    def handler(R: list) -> int:
        cell.value = R[value]
        return nxt
    return handler


# --- references ----------------------------------------------------------------

def _constant(site: _Site, value: object) -> Handler:
    top, nxt = site.top, site.next

    def handler(R: list) -> int:
        R[top] = value
        return nxt
    return handler


def _const(site: _Site) -> Handler:
    return _constant(site, site.imm)


def _ref_null(site: _Site) -> Handler:
    return _constant(site, None)


def _ref_func(site: _Site) -> Handler:
    return _constant(site, site.instance.funcs[site.imm])


def _ref_is_null(site: _Site) -> Handler:
    a, nxt = site.top - 1, site.next

    def handler(R: list) -> int:
        R[a] = 1 if R[a] is None else 0
        return nxt
    return handler


# --- memory --------------------------------------------------------------------

# name -> (struct format, conversion of the unpacked value or None)
LOADS: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "i32.load": ("<I", None),
    "i64.load": ("<Q", None),
    "f32.load": ("<I", f32_from_bits),
    "f64.load": ("<d", None),  # a double's bytes are copied verbatim, NaN payloads included
    "i32.load8_s": ("<b", lambda v: v & MASK32),
    "i32.load8_u": ("<B", None),
    "i32.load16_s": ("<h", lambda v: v & MASK32),
    "i32.load16_u": ("<H", None),
    "i64.load8_s": ("<b", lambda v: v & MASK64),
    "i64.load8_u": ("<B", None),
    "i64.load16_s": ("<h", lambda v: v & MASK64),
    "i64.load16_u": ("<H", None),
    "i64.load32_s": ("<i", lambda v: v & MASK64),
    "i64.load32_u": ("<I", None),
}

# name -> (struct format, conversion of the stored value or None)
STORES: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "i32.store": ("<I", None),
    "i64.store": ("<Q", None),
    "f32.store": ("<I", f32_to_bits),
    "f64.store": ("<d", None),
    "i32.store8": ("<B", lambda v: v & 0xFF),
    "i32.store16": ("<H", lambda v: v & 0xFFFF),
    "i64.store8": ("<B", lambda v: v & 0xFF),
    "i64.store16": ("<H", lambda v: v & 0xFFFF),
    "i64.store32": ("<I", lambda v: v & MASK32),
}


def _memory_bytes(site: _Site) -> bytearray:
    return site.instance.memories[0].data


def _load(site: _Site) -> Handler:
    fmt, convert = LOADS[site.lowered.ops[site.pc].name]
    unpack = struct.Struct(fmt).unpack_from
    memory = _memory_bytes(site)
    offset = site.imm[1]
    a, nxt = site.top - 1, site.next
    if convert is None:
        def handler(R: list) -> int:
            try:
                R[a] = unpack(memory, R[a] + offset)[0]
            except struct.error:
                raise Trap(MEMORY_OUT_OF_BOUNDS) from None
            return nxt
        return handler

    def converting(R: list) -> int:
        try:
            R[a] = convert(unpack(memory, R[a] + offset)[0])
        except struct.error:
            raise Trap(MEMORY_OUT_OF_BOUNDS) from None
        return nxt
    return converting


def _store(site: _Site) -> Handler:
    fmt, convert = STORES[site.lowered.ops[site.pc].name]
    pack = struct.Struct(fmt).pack_into
    memory = _memory_bytes(site)
    offset = site.imm[1]
    a, nxt = site.top - 2, site.next
    if convert is None:
        def handler(R: list) -> int:
            try:
                pack(memory, R[a] + offset, R[a + 1])
            except struct.error:
                raise Trap(MEMORY_OUT_OF_BOUNDS) from None
            return nxt
        return handler

    def converting(R: list) -> int:
        try:
            pack(memory, R[a] + offset, convert(R[a + 1]))
        except struct.error:
            raise Trap(MEMORY_OUT_OF_BOUNDS) from None
        return nxt
    return converting


def _memory_size(site: _Site) -> Handler:
    memory, top, nxt = site.instance.memories[site.imm], site.top, site.next

    def handler(R: list) -> int:
        R[top] = memory.pages
        return nxt
    return handler


def _memory_grow(site: _Site) -> Handler:
    memory, a, nxt = site.instance.memories[site.imm], site.top - 1, site.next

    def handler(R: list) -> int:
        R[a] = memory.grow(R[a]) & MASK32
        return nxt
    return handler


# --- numeric -------------------------------------------------------------------

_NUMERIC_MODULES = {
    "i32": i32_ops, "i64": i64_ops, "f32": f32_ops, "f64": f64_ops,
    "v128": v128_ops, "i8x16": i8x16_ops, "i16x8": i16x8_ops, "i32x4": i32x4_ops, "i64x2": i64x2_ops,
    "f32x4": f32x4_ops, "f64x2": f64x2_ops,
}


def numeric_implementation(operation: Op) -> Callable[..., Any] | None:
    """The function implementing a numeric instruction, found by its name:
    ``i32.add`` is ``add`` in ``interp/exec/i32.py`` (``and_`` for keywords)."""
    prefix, _, name = operation.name.partition(".")
    module = _NUMERIC_MODULES.get(prefix)
    if module is None:
        return None
    if keyword.iskeyword(name):
        name += "_"
    return getattr(module, name, None)


def _numeric(site: _Site, function: Callable[..., Any], arity: int) -> Handler:
    nxt = site.next
    if arity == 1:
        a = site.top - 1

        def unary(R: list) -> int:
            R[a] = function(R[a])
            return nxt
        return unary
    if arity == 2:
        a, b = site.top - 2, site.top - 1

        def binary(R: list) -> int:
            R[a] = function(R[a], R[b])
            return nxt
        return binary
    a, b, c = site.top - 3, site.top - 2, site.top - 1

    def ternary(R: list) -> int:
        R[a] = function(R[a], R[b], R[c])
        return nxt
    return ternary


def _build_factories() -> list[Callable[[_Site], Handler]]:
    by_name: dict[str, Callable[[_Site], Handler]] = {
        "unreachable": _unreachable, "nop": _next, "block": _next, "loop": _next, "end": _end,
        "if": _if, "else": _else, "br": _br, "br_if": _br_if, "br_table": _br_table,
        "return": _br, "drop": _next, "select": _select,
        "local.get": _local_get, "local.set": _local_set, "local.tee": _local_set,
        "global.get": _global_get, "global.set": _global_set,
        "ref.null": _ref_null, "ref.is_null": _ref_is_null, "ref.func": _ref_func,
        "memory.size": _memory_size, "memory.grow": _memory_grow,
    }
    factories: list[Callable[[_Site], Handler]] = []
    for operation in OPS:
        factory = by_name.get(operation.name)
        if factory is None:
            if operation.name in LOADS:
                factory = _load
            elif operation.name in STORES:
                factory = _store
            elif operation.imm in (Imm.I32, Imm.I64, Imm.F32, Imm.F64, Imm.V128):
                factory = _const
            elif operation.imm is Imm.NONE and operation.params is not None \
                    and numeric_implementation(operation) is not None:
                factory = _numeric_factory(operation)
            else:
                factory = _instance_op
        factories.append(factory)
    return factories


def _numeric_factory(operation: Op) -> Callable[[_Site], Handler]:
    function = numeric_implementation(operation)
    arity = len(operation.params or ())
    return lambda site: _numeric(site, function, arity)


def _instance_op(site: _Site) -> Handler:
    """Tables, segments, bulk memory, vector memory, instructions with an
    immediate operand: the function of instance_ops.py, between slots."""
    operation = site.lowered.ops[site.pc]
    found = instance_operation(site.instance, operation, site.imm, numeric_implementation)
    if found is None:
        raise ValueError(f"no implementation of {operation.name}")
    function, count, nxt = found.function, len(found.params), site.next
    a, top = site.top - count, site.top
    if found.result is None:
        def effect(R: list) -> int:
            function(*R[a:top])
            return nxt
        return effect

    def value(R: list) -> int:
        R[a] = function(*R[a:top])
        return nxt
    return value


_FACTORIES = _build_factories()
