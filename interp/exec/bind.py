"""Binding: a lowered function turned into executable Python for one module
instance — a handler and an argument tuple per instruction.

The machine runs instruction ``pc`` as ``code[pc](R, args[pc])``: ``R`` is the
frame's slot list (locals, then the operand stack at fixed positions, see
interp/translate/lower.py), ``args[pc]`` a tuple of what the instruction
needs, fixed when it is bound — its operand slots, its successor ``pc``, the
instance's memory bytes, globals, tables and functions — and the handler
returns the ``pc`` to execute next, or one of the negative codes below for
what the machine's loop does itself (calls and returns change frames, which a
handler cannot).  Handlers are shared: one plain function per kind of
instruction (per instruction for the generated ones), so that binding an
instruction allocates one tuple — of ints mostly, which Python's garbage
collector stops tracking — and no function object: a large module's start-up
binds a few hundred thousand instructions.  They are bound when they first
run: starting a large module runs a small part of the functions it calls.

What a handler does comes from the instruction's semantics in the table
(interp/syntax/semantics.py): the handlers of ``Compute`` and ``Access``
instructions are generated from it (python_semantics.py), those of ``RUNTIME``
instructions call the one Python function both engines run
(instance_ops.py); only the ``MACHINE`` instructions — control, variables,
constants, the memory's size — are written here, as this machine's own.
"""

from __future__ import annotations

import struct
from functools import cache, partial
from types import FunctionType
from typing import Any, Callable

from interp.errors import Trap, TrapKind
from interp.exec.exceptions import throw_ref
from interp.exec.instance_ops import instance_operation
from interp.exec.python_semantics import access_format, handler_template
from interp.exec.semantics import access_shape
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
RETURN = -4         # the handler has moved the results to slots 0..k-1
BREAK = -5          # a debugger's breakpoint: stop before this instruction
TAIL_CALL = -6      # tail calls (below RETURN): as CALL ...
TAIL_CALL_INDIRECT = -7  # ... as CALL_INDIRECT ...
TAIL_CALL_REF = -8  # ... and as CALL_REF
UNBOUND = -9        # the instruction has not run yet: bind it (``bound_handler``) and run it
RESUME = -10        # the function has just been compiled: go on in its compiled form at ``BoundFunction.resume``

Handler = Callable[[list, Any], int]
Bound = tuple[Handler, Any]
"""A handler and its arguments."""


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

    ``code[pc]`` is the handler of instruction ``pc`` and ``args[pc]`` its
    arguments (see the module's docstring); for call instructions only,
    ``sites[pc]`` holds the callee (a function instance), an ``IndirectCall``
    or a ``ReferenceCall``, ``arg_slots[pc]`` the slot of the call's first
    argument, and ``args[pc]`` both (the machine's loop reads them there);
    ``tail`` the initial values of the declared locals and the stack slots,
    appended to the arguments to make a new frame.

    ``fast[pc]`` is what the machine runs at ``pc`` when it need not stop
    between instructions, executing ``fast_costs[pc]`` instructions: ``code``
    itself (cost 1) until the function is hot, then its compiled blocks
    (blocks.py) in lists of their own — a loop running on the handlers when
    they are compiled goes on in the blocks at ``resume``, the handler
    answering ``RESUME``.  ``calls`` counts calls; at ``compile_at`` calls the
    blocks are compiled (0: never), or when ``back_edges`` (counting down
    while it is not 0) more branches have gone backwards: ``compile_hot``
    compiles them.  ``stepping`` is what runs when the machine pauses between
    instructions: ``code``, or a debugger's copy of it with breakpoints
    patched in (which only ever run when pausing).
    """

    __slots__ = ("func", "lowered", "code", "args", "sites", "arg_slots", "tail", "num_params", "num_results",
                 "unit_costs", "fast", "fast_costs", "blocks", "calls", "compile_at", "back_edges", "compile_hot",
                 "stepping", "whole", "resume")

    def __init__(self, func: WasmFunction, lowered: LoweredFunction, code: list[Handler],
                 sites: dict[int, Any], arg_slots: dict[int, int]) -> None:
        count = len(code)
        self.func = func
        self.lowered = lowered
        self.code = code
        self.args: list = [None] * count
        self.sites = sites
        self.arg_slots = arg_slots
        self.num_params = len(lowered.type.params)
        self.num_results = len(lowered.type.results)
        self.tail = [default_value(t) for t in lowered.local_types] + [0] * lowered.max_height
        self.unit_costs = unit_costs(count)
        self.fast = code
        self.fast_costs = self.unit_costs
        self.blocks: Any = None
        self.calls = 0
        self.compile_at = 0
        self.back_edges = 0
        self.compile_hot: Callable[[BoundFunction], None] | None = None
        self.stepping = code  # what runs when pausing between instructions (a debugger patches a copy)
        self.whole: Callable[..., Any] | None = None  # the whole function compiled (whole.py), once hot
        self.resume = 0


_ONES: list[int] = []
_PCS: list[int] = []


def unit_costs(count: int) -> list[int]:
    """A list of at least ``count`` ones, shared by every function: what each
    single instruction costs.  (And ``_PCS`` grown to ``count`` + 1
    numbers: the int objects of instructions' next pcs, shared by every
    function's argument tuples rather than one made per instruction.)"""
    if len(_ONES) < count:
        _ONES.extend([1] * (count - len(_ONES)))
        _PCS.extend(range(len(_PCS), count + 1))
    return _ONES


_SHARED_ARGUMENTS: list[tuple[int, ...] | None] = [None] * (1 << 16)
"""A direct-mapped cache of argument tuples of ints (``slot_arguments``):
a fixed 512 KiB, where a dictionary of every distinct tuple cost as much as
sharing them saved."""


def slot_arguments(*numbers: int) -> tuple[int, ...]:
    """A tuple equal to ``numbers`` (slots and pcs, all ints), the one made
    before when it is still in the cache: the Go filter's start binds
    120,000 instructions whose argument tuples of ints are three-fifths
    distinct (functions built alike have the same slots at the same pcs).
    Only for ints: equal tuples holding ``1`` and ``1.0``, or ``0.0`` and
    ``-0.0``, are not interchangeable."""
    position = hash(numbers) & 0xFFFF
    found = _SHARED_ARGUMENTS[position]
    if found == numbers:
        return found  # type: ignore[return-value]
    _SHARED_ARGUMENTS[position] = numbers
    return numbers


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
        self.next = _PCS[pc + 1]

    def slot(self, height: int) -> int:
        return self.lowered.num_locals + height


def bind_function(func: WasmFunction, lowered: LoweredFunction) -> BoundFunction:
    """Bind ``lowered`` to ``func``'s instance.  Calls are placed now (the
    machine reads their sites); every other instruction is bound the first
    time it runs (``UNBOUND``): a large function whose start-up path runs a
    fraction of it costs nothing for the instructions that never run."""
    instance = func.instance
    count = len(lowered.ops)
    code: list[Handler] = [_unbound] * count
    sites: dict[int, Any] = {}
    arg_slots: dict[int, int] = {}
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
        bound.args[pc] = (sites[pc], arg_slots[pc])  # what the machine reads when the call answers
    return bound


def _unbound(R: list, A: Any) -> int:
    """The handler of every instruction until it first runs."""
    return UNBOUND


def bound_handler(bound: BoundFunction, pc: int) -> Handler:
    """The handler of the instruction at ``pc``, bound now (``args[pc]``
    set) if it has not run yet."""
    handler = bound.code[pc]
    if handler is _unbound:
        handler, bound.args[pc] = _FACTORIES[bound.lowered.ops[pc].id](_Site(bound, pc))
        bound.code[pc] = handler
    return handler


def bind_first_run(bound: BoundFunction, pc: int, running: list) -> Handler:
    """The handler of the instruction at ``pc``, which has answered
    ``UNBOUND``: bound, and put in its place in ``code``, in ``fast``
    (compiled blocks keep the instructions they do not compile) and in
    ``running``, the list the machine runs (a debugger's copy, maybe)."""
    handler = bound_handler(bound, pc)
    if bound.fast[pc] is _unbound:
        bound.fast[pc] = handler
    if running[pc] is _unbound:
        running[pc] = handler
    return handler


def handler_of(template: Callable[..., int], *values: object) -> Handler:
    """``template`` with its last parameters defaulting to ``values``: a new
    function on ``template``'s code (for the few handlers that are made per
    instruction kind, with what all its instructions share)."""
    return FunctionType(template.__code__, template.__globals__, template.__name__, values)


def _answer(R: list, A: Any, value: int) -> int:
    return value


_ANSWERS = {code: handler_of(_answer, code) for code in (CALL, CALL_INDIRECT, CALL_REF, RETURN, TAIL_CALL,
                                                         TAIL_CALL_INDIRECT, TAIL_CALL_REF)}
"""One handler per machine code, for the instructions that only answer it
(it has its code as the default of its second parameter, so it answers the
same whatever arguments it is given)."""


def _returning(value: int) -> Handler:
    return _ANSWERS[value]


# --- control -----------------------------------------------------------------

def _go_on(R: list, A: int) -> int:
    return A


def _next(site: _Site) -> Bound:
    return _go_on, site.next


def _trap_unreachable(R: list, A: Any) -> int:
    raise Trap(TrapKind.UNREACHABLE)


def _unreachable(site: _Site) -> Bound:
    return _trap_unreachable, None


def _choose(R: list, A: tuple) -> int:
    cond, nxt, otherwise = A
    return nxt if R[cond] else otherwise


def _if(site: _Site) -> Bound:
    return _choose, slot_arguments(site.top - 1, site.next, site.imm)


def _else(site: _Site) -> Bound:
    return _go_on, site.imm


def _return_one(R: list, A: int) -> int:
    R[0] = R[A]
    return RETURN


def _return_many(R: list, A: tuple) -> int:
    source, end, arity = A
    R[0:arity] = R[source:end]
    return RETURN


def _return(site: _Site, result: Return, arity: int) -> Bound:
    source = site.slot(result.source)
    if arity == 0 or source == 0:
        return _ANSWERS[RETURN], None
    if arity == 1:
        return _return_one, source
    return _return_many, (source, source + arity, arity)


def _jump(site: _Site, branch: Branch) -> Bound:
    """Unconditionally take ``branch`` (moving its values)."""
    jump = _moving_jump(site, branch)
    if _counts(site, branch):
        return _counted, (site.bound, *jump)
    return jump


def _counts(site: _Site, branch: Branch) -> bool:
    """Whether taking ``branch`` counts as a back edge towards compiling the function."""
    return branch.target <= site.pc and site.bound.back_edges != 0


def _jump_one(R: list, A: tuple) -> int:
    destination, source, target = A
    R[destination] = R[source]
    return target


def _jump_many(R: list, A: tuple) -> int:
    destination, source, end, stop, target = A
    R[destination:stop] = R[source:end]
    return target


def _moving_jump(site: _Site, branch: Branch) -> Bound:
    target = branch.target
    if not branch.moves_values:
        return _go_on, target
    destination, source, arity = site.slot(branch.height), site.slot(branch.source), branch.arity
    if arity == 1:
        return _jump_one, slot_arguments(destination, source, target)
    return _jump_many, (destination, source, source + arity, destination + arity, target)


def _counted(R: list, A: tuple) -> int:
    """A branch back to a loop while the function is not compiled: the
    ``back_edges``-th compiles it (so a long loop in a function called once
    is compiled, and one that barely loops is not), and the machine goes on
    in the compiled form."""
    bound, jump, arguments = A
    target = jump(R, arguments)
    if bound.back_edges:
        bound.back_edges -= 1
        if not bound.back_edges and bound.compile_hot is not None:
            bound.compile_hot(bound)
            bound.resume = target
            return RESUME
    return target


def _take(site: _Site, target: Branch | Return) -> Bound:
    if isinstance(target, Return):
        return _return(site, target, len(site.lowered.type.results))
    return _jump(site, target)


def _br(site: _Site) -> Bound:
    return _take(site, site.imm)


def _branch_if(R: list, A: tuple) -> int:
    cond, nxt, taken, arguments = A
    if R[cond]:
        return taken(R, arguments)
    return nxt


def _br_if(site: _Site) -> Bound:
    branch = site.imm
    if isinstance(branch, Branch) and not branch.moves_values and not _counts(site, branch):
        return _choose, slot_arguments(site.top - 1, branch.target, site.next)
    return _branch_if, (site.top - 1, site.next, *_take(site, branch))


def _branch_table(R: list, A: tuple) -> int:
    index, targets, fallback = A
    i = R[index]
    taken, arguments = targets[i] if i < len(targets) else fallback
    return taken(R, arguments)


def _jump_table(R: list, A: tuple) -> int:
    index, targets, default = A
    i = R[index]
    return targets[i] if i < len(targets) else default


def _br_table(site: _Site) -> Bound:
    targets, default = site.imm
    taken = tuple(_take(site, target) for target in targets)
    fallback = _take(site, default)
    if all(handler is _go_on for handler, _ in taken) and fallback[0] is _go_on:  # plain jumps: a table of pcs
        return _jump_table, (site.top - 1, tuple(target for _, target in taken), fallback[1])
    return _branch_table, (site.top - 1, taken, fallback)


def _branch_if_null(R: list, A: tuple) -> int:
    reference, nxt, taken, arguments = A
    if R[reference] is None:
        return taken(R, arguments)
    return nxt


def _br_on_null(site: _Site) -> Bound:
    """Branch (dropping the reference) when the top reference is null."""
    return _branch_if_null, (site.top - 1, site.next, *_take(site, site.imm))


def _branch_unless_null(R: list, A: tuple) -> int:
    reference, nxt, taken, arguments = A
    if R[reference] is not None:
        return taken(R, arguments)
    return nxt


def _br_on_non_null(site: _Site) -> Bound:
    """Branch (carrying the reference) when the top reference is not null."""
    return _branch_unless_null, (site.top - 1, site.next, *_take(site, site.imm))


def _branch_on_cast(R: list, A: tuple) -> int:
    reference, nxt, taken, arguments, target, wanted = A
    if ref_matches(R[reference], target) is wanted:
        return taken(R, arguments)
    return nxt


def _br_on_cast(site: _Site) -> Bound:
    """Branch when the top reference is of the target type (``br_on_cast``)
    or is not (``br_on_cast_fail``); the reference goes along or stays."""
    branch, target = site.imm
    wanted = site.lowered.ops[site.pc].name == "br_on_cast"
    return _branch_on_cast, (site.top - 1, site.next, *_take(site, branch), target, wanted)


def _end(site: _Site) -> Bound:
    """The final ``end`` returns from the function; any other one does nothing."""
    if isinstance(site.imm, Return):
        return _take(site, site.imm)
    return _next(site)


def _throw_again(R: list, A: int) -> int:
    throw_ref(R[A])
    return RETURN  # not reached: throw_ref raises


def _rethrow(site: _Site) -> Bound:
    """The legacy ``rethrow``: its immediate is the slot of what the catch caught."""
    return _throw_again, site.slot(site.imm)


# --- parametric and variable ---------------------------------------------------

def _choose_value(R: list, A: tuple) -> int:
    a, cond, nxt = A
    if not R[cond]:
        R[a] = R[a + 1]
    return nxt


def _select(site: _Site) -> Bound:
    return _choose_value, slot_arguments(site.top - 3, site.top - 1, site.next)


def _copy_slot(R: list, A: tuple) -> int:
    source, destination, nxt = A
    R[destination] = R[source]
    return nxt


def _local_get(site: _Site) -> Bound:
    return _copy_slot, slot_arguments(site.imm, site.top, site.next)


def _local_set(site: _Site) -> Bound:
    return _copy_slot, slot_arguments(site.top - 1, site.imm, site.next)


def _read_global(R: list, A: tuple) -> int:
    cell, top, nxt = A
    R[top] = cell.value
    return nxt


def _global_get(site: _Site) -> Bound:
    return _read_global, (site.instance.globals[site.imm], site.top, site.next)


def _write_global(R: list, A: tuple) -> int:
    cell, value, nxt = A
    cell.value = R[value]
    return nxt


def _global_set(site: _Site) -> Bound:
    return _write_global, (site.instance.globals[site.imm], site.top - 1, site.next)


# --- references ----------------------------------------------------------------

def _put(R: list, A: tuple) -> int:
    value, top, nxt = A
    R[top] = value
    return nxt


def _constant(site: _Site, value: object) -> Bound:
    return _put, (value, site.top, site.next)


def _const(site: _Site) -> Bound:
    return _constant(site, site.imm)


def _ref_null(site: _Site) -> Bound:
    return _constant(site, None)


def _ref_func(site: _Site) -> Bound:
    return _constant(site, site.instance.funcs[site.imm])


def _test_null(R: list, A: tuple) -> int:
    a, nxt = A
    R[a] = 1 if R[a] is None else 0
    return nxt


def _ref_is_null(site: _Site) -> Bound:
    return _test_null, (site.top - 1, site.next)


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


def _load_plain(R: list, A: tuple, unpack: Any, convert: Any) -> int:
    memory, a, offset, nxt = A
    try:
        R[a] = unpack(memory, R[a] + offset)[0]
    except struct.error:
        raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
    return nxt


def _load_converting(R: list, A: tuple, unpack: Any, convert: Callable[[Any], Any]) -> int:
    memory, a, offset, nxt = A
    try:
        R[a] = convert(unpack(memory, R[a] + offset)[0])
    except struct.error:
        raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
    return nxt


def _load_wide(R: list, A: tuple, unpack: Any, convert: Callable[[Any], Any]) -> int:
    memory, a, offset, nxt = A
    try:
        R[a] = convert(unpack(memory, min(R[a] + offset, BEYOND_MEMORY))[0])
    except struct.error:
        raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
    return nxt


def _store_plain(R: list, A: tuple, pack: Any, convert: Any) -> int:
    memory, a, offset, nxt = A
    try:
        pack(memory, R[a] + offset, R[a + 1])
    except struct.error:
        raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
    return nxt


def _store_converting(R: list, A: tuple, pack: Any, convert: Callable[[Any], Any]) -> int:
    memory, a, offset, nxt = A
    try:
        pack(memory, R[a] + offset, convert(R[a + 1]))
    except struct.error:
        raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
    return nxt


def _store_wide(R: list, A: tuple, pack: Any, convert: Callable[[Any], Any]) -> int:
    memory, a, offset, nxt = A
    try:
        pack(memory, min(R[a] + offset, BEYOND_MEMORY), convert(R[a + 1]))
    except struct.error:
        raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS) from None
    return nxt


def _unchanged(value: Any) -> Any:
    return value


@cache
def _access_handlers(operation: Op) -> tuple[Handler, Handler]:
    """The handlers of an ``Access`` instruction, for 32-bit and for 64-bit
    addresses: the generic ones above with the instruction's ``struct``
    function and conversion as defaults."""
    layout, convert = access_format(operation)
    if access_shape(operation).store:
        function, plain, converting, wide = layout.pack_into, _store_plain, _store_converting, _store_wide
    else:
        function, plain, converting, wide = layout.unpack_from, _load_plain, _load_converting, _load_wide
    narrow = handler_of(plain if convert is None else converting, function, convert)
    return narrow, handler_of(wide, function, convert or _unchanged)


def _access(site: _Site, operand: int) -> Bound:
    narrow, wide_handler = _access_handlers(site.lowered.ops[site.pc])
    instance_memory, offset, wide = _memory_access(site)
    return wide_handler if wide else narrow, (instance_memory.data, site.top - operand, offset, site.next)


def _load(site: _Site) -> Bound:
    return _access(site, 1)


def _store(site: _Site) -> Bound:
    return _access(site, 2)


def _read_size(R: list, A: tuple) -> int:
    memory, top, nxt = A
    R[top] = memory.pages
    return nxt


def _memory_size(site: _Site) -> Bound:
    return _read_size, (site.instance.memories[site.imm], site.top, site.next)


def _grow(R: list, A: tuple) -> int:
    memory, a, mask, nxt = A
    R[a] = memory.grow(R[a]) & mask
    return nxt


def _memory_grow(site: _Site) -> Bound:
    """The old size, or -1 as an unsigned value of the memory's address type."""
    memory = site.instance.memories[site.imm]
    mask = MASK64 if memory.type.address is I64 else MASK32
    return _grow, (memory, site.top - 1, mask, site.next)


def _apply_three(R: list, A: tuple) -> int:
    function, a, nxt = A
    function(R[a], R[a + 1], R[a + 2])
    return nxt


def _bulk(site: _Site, function: Callable[[int, int, int], None]) -> Bound:
    return _apply_three, (function, site.top - 3, site.next)


def _memory_fill(site: _Site) -> Bound:
    return _bulk(site, site.instance.memories[site.imm].fill)


def _memory_copy(site: _Site) -> Bound:
    destination, source = (site.instance.memories[index] for index in site.imm)
    return _bulk(site, partial(destination.copy_from, source))


# --- the rest: generated from the table's semantics, or run by instance_ops.py ---------

def _computed(operation: Op) -> Callable[[_Site], Bound]:
    """Handlers of a ``Compute`` instruction: generated from its expression
    (when the first one is bound), its operand slots and next pc the arguments."""
    arity = len(operation.params or ())

    def bind(site: _Site) -> Bound:
        return handler_template(operation), slot_arguments(*range(site.top - arity, site.top), site.next)
    return bind


def _run_effect(R: list, A: tuple) -> int:
    function, a, top, nxt = A
    function(*R[a:top])
    return nxt


def _run_values(R: list, A: tuple) -> int:
    function, a, top, end, nxt = A
    R[a:end] = function(*R[a:top])
    return nxt


def _run_value(R: list, A: tuple) -> int:
    function, a, top, nxt = A
    R[a] = function(*R[a:top])
    return nxt


def _instance_op(site: _Site) -> Bound:
    """A ``RUNTIME`` instruction: the function of instance_ops.py, between slots."""
    operation = site.lowered.ops[site.pc]
    found = instance_operation(site.instance, operation, site.imm)
    function, nxt = found.function, site.next
    a, top = site.top - len(found.params), site.top
    if found.result is None:
        return _run_effect, (function, a, top, nxt)
    if found.more_results:
        return _run_values, (function, a, top, a + 1 + len(found.more_results), nxt)
    return _run_value, (function, a, top, nxt)


_MACHINE_FACTORIES: dict[str, Callable[[_Site], Bound]] = {
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


def _factory(operation: Op) -> Callable[[_Site], Bound]:
    semantics = operation.semantics
    if isinstance(semantics, Compute):
        return _computed(operation)
    if isinstance(semantics, Access):
        return _store if semantics.store else _load
    if semantics is RUNTIME:
        return _instance_op
    factory = _MACHINE_FACTORIES.get(operation.name)
    if factory is None:
        raise RuntimeError(f"the step machine has no handler for the MACHINE instruction {operation.name}")
    return factory


_FACTORIES = {operation.id: _factory(operation) for operation in OPS if operation.name not in _CALLS}
