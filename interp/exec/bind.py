"""Binding: a lowered function turned into executable Python for one module
instance — one small closure per instruction.

Each closure takes the frame's slot list ``R`` (locals, then the operand stack
at fixed positions, see interp/translate/lower.py) and returns the ``pc`` to
execute next, or one of the negative codes below for what the machine's loop
does itself (calls and returns change frames, which a closure cannot).  The
closures capture everything else they need — the instance's memory bytes,
globals, tables and functions, their operand slots, their successor ``pc`` —
when they are made, so executing one is a single call with no decoding and
no lookups.  They are made when their instruction first runs: starting a
large module runs a small part of the functions it calls.

What a closure does comes from the instruction's semantics in the table
(interp/syntax/semantics.py): the closures of ``Compute`` and ``Access``
instructions are generated from it (python_semantics.py), those of ``RUNTIME``
instructions call the one Python function both engines run
(instance_ops.py); only the ``MACHINE`` instructions — control, variables,
constants, the memory's size — are written here, as this machine's own.
"""

from __future__ import annotations

import struct
from functools import partial
from typing import Any, Callable

from interp.errors import Trap, TrapKind
from interp.exec.exceptions import throw_ref
from interp.exec.instance_ops import instance_operation
from interp.exec.python_semantics import access_format, closure_factory
from interp.runtime.function import WasmFunction
from interp.runtime.memory import MemoryInstance
from interp.runtime.references import ref_matches
from interp.runtime.table import TableInstance
from interp.syntax.defined import DefinedType
from interp.syntax.opcodes import OPS, Op
from interp.syntax.semantics import RUNTIME, Access, Compute
from interp.syntax.types import I64
from interp.syntax.values import MASK32, MASK64, default_value
from interp.translate.lower import Branch, LoweredFunction, Return

CALL = -1           # call the function in ``BoundFunction.sites[pc]``
CALL_INDIRECT = -2  # call through the table described in ``sites[pc]``
CALL_REF = -3       # call the function referenced in the slot a ``ReferenceCall`` in ``sites[pc]`` says
RETURN = -4         # the closure has moved the results to slots 0..k-1
BREAK = -5          # a debugger's breakpoint: stop before this instruction
TAIL_CALL = -6      # tail calls (below RETURN): as CALL ...
TAIL_CALL_INDIRECT = -7  # ... as CALL_INDIRECT ...
TAIL_CALL_REF = -8  # ... and as CALL_REF
UNBOUND = -9        # the instruction has not run yet: make its closure (``bound_handler``) and run that

Handler = Callable[[list], int]


class IndirectCall:
    """What a ``call_indirect`` site needs at run time: the table, the
    defined type the callee must have (or a subtype of), the slot of the
    table index."""

    __slots__ = ("table", "type", "index_slot")

    def __init__(self, table: TableInstance, type: DefinedType, index_slot: int) -> None:
        self.table = table
        self.type = type
        self.index_slot = index_slot


def table_callee(site: IndirectCall, index: int) -> Any:
    """The function a ``call_indirect`` through ``site`` calls at table
    index ``index``; traps when there is none or its type does not match."""
    elements = site.table.elements
    if index >= len(elements):
        raise Trap(TrapKind.UNDEFINED_ELEMENT, detail=str(index))
    callee = elements[index]
    if callee is None:
        raise Trap(TrapKind.UNINITIALIZED_ELEMENT, detail=str(index))
    expected = site.type
    if callee.deftype is not expected and not callee.deftype.is_subtype_of(expected):
        raise Trap(TrapKind.INDIRECT_CALL_TYPE_MISMATCH)
    return callee


class ReferenceCall:
    """What a ``call_ref`` or ``return_call_ref`` site needs at run time: the slot of the
    function reference it calls (its arguments are below it)."""

    __slots__ = ("slot",)

    def __init__(self, slot: int) -> None:
        self.slot = slot


class BoundFunction:
    """A function ready to run on the step machine.

    ``code[pc]`` is the closure for instruction ``pc``; ``sites[pc]`` holds the
    callee (a function instance), an ``IndirectCall`` or a
    ``ReferenceCall`` for call instructions and ``None`` elsewhere; ``arg_slots[pc]`` the slot of a call's first argument;
    ``tail`` the initial values of the declared locals and the stack slots,
    appended to the arguments to make a new frame.

    ``fast[pc]`` is what the machine runs at ``pc`` when it need not stop
    between instructions, executing ``fast_costs[pc]`` instructions: the
    closures (cost 1) until the function is hot, then its compiled blocks
    (blocks.py), written into the same lists, so that a loop running on the
    closures goes on in the blocks at its next iteration.  ``calls`` counts
    calls; at ``compile_at`` calls the blocks are compiled (0: never), or
    when ``back_edges`` (counting down while it is not 0) more branches
    have gone backwards: ``compile_hot`` compiles them.  ``stepping`` is what runs when the machine
    pauses between instructions: ``code``, or a debugger's copy of it with
    breakpoints patched in (which only ever run when pausing).
    """

    __slots__ = ("func", "lowered", "code", "sites", "arg_slots", "tail", "num_params", "num_results",
                 "unit_costs", "fast", "fast_costs", "blocks", "calls", "compile_at", "back_edges", "compile_hot",
                 "stepping", "whole")

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
        self.fast = list(code)
        self.fast_costs = [1] * len(code)
        self.blocks: Any = None
        self.calls = 0
        self.compile_at = 0
        self.back_edges = 0
        self.compile_hot: Callable[[BoundFunction], None] | None = None
        self.stepping = code  # what runs when pausing between instructions (a debugger patches a copy)
        self.whole: Callable[..., Any] | None = None  # the whole function compiled (whole.py), once hot


class _Site:
    """Everything a handler factory may need about one instruction."""

    __slots__ = ("bound", "instance", "lowered", "pc", "imm", "top", "next")

    def __init__(self, bound: BoundFunction, pc: int) -> None:
        lowered = bound.lowered
        self.bound = bound
        self.instance = bound.func.instance
        self.lowered = lowered
        self.pc = pc
        self.imm = lowered.imms[pc]
        self.top = lowered.num_locals + lowered.heights[pc]  # first free stack slot
        self.next = pc + 1

    def slot(self, height: int) -> int:
        return self.lowered.num_locals + height


def bind_function(func: WasmFunction, lowered: LoweredFunction) -> BoundFunction:
    """Bind ``lowered`` to ``func``'s instance.  Calls are placed now (the
    machine reads their sites); every other instruction gets its closure the
    first time it runs (``UNBOUND``): a large function whose start-up path
    runs a fraction of it costs nothing for the instructions that never run."""
    instance = func.instance
    count = len(lowered.ops)
    code: list[Handler] = [_unbound] * count
    sites: list = [None] * count
    arg_slots = [0] * count
    bound = BoundFunction(func, lowered, code, sites, arg_slots)
    for pc, operation in enumerate(lowered.ops):
        name = operation.name
        if name not in _CALLS:
            continue
        site = _Site(bound, pc)
        if name == "call" or name == "return_call":
            callee = instance.funcs[site.imm]
            sites[pc] = callee
            arg_slots[pc] = site.top - len(callee.type.params)
            code[pc] = _returning(CALL if name == "call" else TAIL_CALL)
        elif name == "call_indirect" or name == "return_call_indirect":
            type_index, table_index = site.imm
            defined = instance.types[type_index]
            index_slot = site.top - 1
            sites[pc] = IndirectCall(instance.tables[table_index], defined, index_slot)
            arg_slots[pc] = index_slot - len(defined.comp.params)  # type: ignore[union-attr]
            code[pc] = _returning(CALL_INDIRECT if name == "call_indirect" else TAIL_CALL_INDIRECT)
        else:
            reference_slot = site.top - 1
            sites[pc] = ReferenceCall(reference_slot)
            arg_slots[pc] = reference_slot - len(instance.types[site.imm].comp.params)  # type: ignore[union-attr]
            code[pc] = _returning(CALL_REF if name == "call_ref" else TAIL_CALL_REF)
    bound.fast[:] = code
    return bound


def _unbound(R: list) -> int:
    """The place of every instruction's closure until it first runs."""
    return UNBOUND


def bound_handler(bound: BoundFunction, pc: int) -> Handler:
    """The closure of the instruction at ``pc``, made now if it has not run yet."""
    handler = bound.code[pc]
    if handler is _unbound:
        handler = bound.code[pc] = _FACTORIES[bound.lowered.ops[pc].id](_Site(bound, pc))
    return handler


def bind_first_run(bound: BoundFunction, pc: int, running: list) -> Handler:
    """The closure of the instruction at ``pc``, which has answered
    ``UNBOUND``: made, and put in its place in ``code``, in ``fast``
    (compiled blocks keep the instructions they do not compile) and in
    ``running``, the list the machine runs (a debugger's copy, maybe)."""
    handler = bound_handler(bound, pc)
    if bound.fast[pc] is _unbound:
        bound.fast[pc] = handler
    if running[pc] is _unbound:
        running[pc] = handler
    return handler


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
        raise Trap(TrapKind.UNREACHABLE)
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
    jump = _moving_jump(site, branch)
    if branch.target <= site.pc and site.bound.back_edges:
        return _counting_back_edge(site.bound, jump)
    return jump


def _moving_jump(site: _Site, branch: Branch) -> Handler:
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


def _counting_back_edge(bound: BoundFunction, jump: Handler) -> Handler:
    """A branch back to a loop while the function is not compiled: the
    ``back_edges``-th compiles it (so a long loop in a function called once
    is compiled, and one that barely loops is not)."""
    def counted(R: list) -> int:
        if bound.back_edges:
            bound.back_edges -= 1
            if not bound.back_edges and bound.compile_hot is not None:
                bound.compile_hot(bound)
        return jump(R)
    return counted


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


def _br_on_null(site: _Site) -> Handler:
    """Branch (dropping the reference) when the top reference is null."""
    reference, nxt = site.top - 1, site.next
    taken = _take(site, site.imm)

    def handler(R: list) -> int:
        if R[reference] is None:
            return taken(R)
        return nxt
    return handler


def _br_on_non_null(site: _Site) -> Handler:
    """Branch (carrying the reference) when the top reference is not null."""
    reference, nxt = site.top - 1, site.next
    taken = _take(site, site.imm)

    def handler(R: list) -> int:
        if R[reference] is not None:
            return taken(R)
        return nxt
    return handler


def _br_on_cast(site: _Site) -> Handler:
    """Branch when the top reference is of the target type (``br_on_cast``)
    or is not (``br_on_cast_fail``); the reference goes along or stays."""
    branch, target = site.imm
    reference, nxt = site.top - 1, site.next
    taken = _take(site, branch)
    wanted = site.lowered.ops[site.pc].name == "br_on_cast"

    def handler(R: list) -> int:
        if ref_matches(R[reference], target) is wanted:
            return taken(R)
        return nxt
    return handler


def _end(site: _Site) -> Handler:
    """The final ``end`` returns from the function; any other one does nothing."""
    if isinstance(site.imm, Return):
        return _take(site, site.imm)
    return _next(site)


def _rethrow(site: _Site) -> Handler:
    """The legacy ``rethrow``: its immediate is the slot of what the catch caught."""
    slot = site.slot(site.imm)

    def handler(R: list) -> int:
        throw_ref(R[slot])
    return handler


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

BEYOND_MEMORY = 1 << 62
"""An address past the end of any memory that ``struct`` still takes as an
offset: a 64-bit memory's effective addresses (up to 2**65) are clamped to it,
so that they fail as out of bounds instead of overflowing."""


def _memory_access(site: _Site) -> tuple[MemoryInstance, int, bool]:
    """The memory a load or store accesses, its static offset, and whether
    its addresses are 64-bit (and must be clamped, see ``BEYOND_MEMORY``)."""
    memarg = site.imm
    memory = site.instance.memories[memarg.memory]
    return memory, memarg.offset, memory.type.address is I64


def _load(site: _Site) -> Handler:
    layout, convert = access_format(site.lowered.ops[site.pc])
    unpack = layout.unpack_from
    instance_memory, offset, wide = _memory_access(site)
    memory = instance_memory.data
    a, nxt = site.top - 1, site.next
    if wide:
        converted = convert or _unchanged

        def wide_address(R: list) -> int:
            try:
                R[a] = converted(unpack(memory, min(R[a] + offset, BEYOND_MEMORY))[0])
            except struct.error:
                raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
            return nxt
        return wide_address
    if convert is None:
        def handler(R: list) -> int:
            try:
                R[a] = unpack(memory, R[a] + offset)[0]
            except struct.error:
                raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
            return nxt
        return handler

    def converting(R: list) -> int:
        try:
            R[a] = convert(unpack(memory, R[a] + offset)[0])
        except struct.error:
            raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
        return nxt
    return converting


def _store(site: _Site) -> Handler:
    layout, convert = access_format(site.lowered.ops[site.pc])
    pack = layout.pack_into
    instance_memory, offset, wide = _memory_access(site)
    memory = instance_memory.data
    a, nxt = site.top - 2, site.next
    if wide:
        converted = convert or _unchanged

        def wide_address(R: list) -> int:
            try:
                pack(memory, min(R[a] + offset, BEYOND_MEMORY), converted(R[a + 1]))
            except struct.error:
                raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
            return nxt
        return wide_address
    if convert is None:
        def handler(R: list) -> int:
            try:
                pack(memory, R[a] + offset, R[a + 1])
            except struct.error:
                raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
            return nxt
        return handler

    def converting(R: list) -> int:
        try:
            pack(memory, R[a] + offset, convert(R[a + 1]))
        except struct.error:
            raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
        return nxt
    return converting


def _unchanged(value: Any) -> Any:
    return value


def _memory_size(site: _Site) -> Handler:
    memory, top, nxt = site.instance.memories[site.imm], site.top, site.next

    def handler(R: list) -> int:
        R[top] = memory.pages
        return nxt
    return handler


def _memory_grow(site: _Site) -> Handler:
    """The old size, or -1 as an unsigned value of the memory's address type."""
    memory, a, nxt = site.instance.memories[site.imm], site.top - 1, site.next
    mask = MASK64 if memory.type.address is I64 else MASK32

    def handler(R: list) -> int:
        R[a] = memory.grow(R[a]) & mask
        return nxt
    return handler


def _bulk(site: _Site, function: Callable[[int, int, int], None]) -> Handler:
    a, nxt = site.top - 3, site.next

    def handler(R: list) -> int:
        function(R[a], R[a + 1], R[a + 2])
        return nxt
    return handler


def _memory_fill(site: _Site) -> Handler:
    return _bulk(site, site.instance.memories[site.imm].fill)


def _memory_copy(site: _Site) -> Handler:
    destination, source = (site.instance.memories[index] for index in site.imm)
    return _bulk(site, partial(destination.copy_from, source))


# --- the rest: generated from the table's semantics, or run by instance_ops.py ---------

def _computed(operation: Op) -> Callable[[_Site], Handler]:
    """Closures of a ``Compute`` instruction: generated from its expression
    (when the first one is bound)."""
    arity = len(operation.params or ())

    def bind(site: _Site) -> Handler:
        first = site.top - arity
        return closure_factory(operation)(*range(first, site.top), site.next)
    return bind


def _instance_op(site: _Site) -> Handler:
    """A ``RUNTIME`` instruction: the function of instance_ops.py, between slots."""
    operation = site.lowered.ops[site.pc]
    found = instance_operation(site.instance, operation, site.imm)
    function, count, nxt = found.function, len(found.params), site.next
    a, top = site.top - count, site.top
    if found.result is None:
        def effect(R: list) -> int:
            function(*R[a:top])
            return nxt
        return effect
    if found.more_results:
        end = a + 1 + len(found.more_results)

        def values(R: list) -> int:
            R[a:end] = function(*R[a:top])
            return nxt
        return values

    def value(R: list) -> int:
        R[a] = function(*R[a:top])
        return nxt
    return value


_MACHINE_FACTORIES: dict[str, Callable[[_Site], Handler]] = {
    "unreachable": _unreachable, "nop": _next, "block": _next, "loop": _next, "end": _end,
    "if": _if, "else": _else, "br": _br, "br_if": _br_if, "br_table": _br_table,
    "br_on_null": _br_on_null, "br_on_non_null": _br_on_non_null, "br_on_cast": _br_on_cast,
    "br_on_cast_fail": _br_on_cast,
    "return": _br, "drop": _next, "select": _select,
    "try_table": _next, "try": _next, "delegate": _next, "catch": _else, "catch_all": _else, "rethrow": _rethrow,
    "local.get": _local_get, "local.set": _local_set, "local.tee": _local_set,
    "global.get": _global_get, "global.set": _global_set,
    "ref.null": _ref_null, "ref.is_null": _ref_is_null, "ref.func": _ref_func,
    "i32.const": _const, "i64.const": _const, "f32.const": _const, "f64.const": _const, "v128.const": _const,
    "memory.size": _memory_size, "memory.grow": _memory_grow, "memory.fill": _memory_fill,
    "memory.copy": _memory_copy,
}
"""The ``MACHINE`` instructions but calls (bind_function places those)."""


_CALLS = frozenset({"call", "call_indirect", "call_ref", "return_call", "return_call_indirect", "return_call_ref"})


def _factory(operation: Op) -> Callable[[_Site], Handler]:
    semantics = operation.semantics
    if isinstance(semantics, Compute):
        return _computed(operation)
    if isinstance(semantics, Access):
        return _store if semantics.store else _load
    if semantics is RUNTIME:
        return _instance_op
    factory = _MACHINE_FACTORIES.get(operation.name)
    if factory is None:
        raise RuntimeError(f"the step machine has no closure for the MACHINE instruction {operation.name}")
    return factory


_FACTORIES = {operation.id: _factory(operation) for operation in OPS if operation.name not in _CALLS}
