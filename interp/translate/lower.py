"""Translation: a function body lowered into the flat form that every
execution engine runs.

A body not known to be valid is validated as it is lowered
(``lower_function`` feeds each instruction to ``FunctionValidator.step``, so
its errors are exactly ``validate_function``'s); the body of a compiled
module, validated when it was compiled (or vouched for by the module cache),
is lowered without typing it again (``lower_valid_function``), straight from
its bytes when the module came from a binary.  Either way the lowering needs
only the operand-stack height before each instruction, which follows from
the instructions' arities (the opcode table's, or for calls, blocks and the
like the module context's) and from where code becomes unreachable (after
which an instruction pops nothing below its block's height, as the
validator's polymorphic stack has it).  From those it resolves what
execution would otherwise have to compute again and again:

* every branch knows its target ``pc`` (the instruction after the target's
  ``end``, or the first instruction of a ``loop``), how many values it carries
  and where they move, so execution never searches for a matching ``end`` and
  keeps no label stack;
* every instruction knows the operand-stack height before it.  Because that
  height is static, the operand stack is addressed like registers: a frame's
  slots are its locals followed by its stack, and an instruction at height
  ``h`` reads its operands from slots ``num_locals + h - k .. num_locals + h``;
* every ``try_table`` (and legacy ``try``) becomes a ``Handler`` of the
  function's handler table: the instructions it covers and, per catch clause,
  where execution goes and where what it catches is put.  Throwing is then a
  search of that table (``interp.exec.exceptions``), the same for every
  engine, and a ``try_table`` costs nothing while nothing is thrown.  The
  exception a legacy ``catch`` caught (which ``rethrow`` throws again) is
  kept in a slot above the deepest operand stack, one per nesting level of
  ``try`` blocks.

The instruction sequence keeps a one-to-one correspondence with the body (one
lowered entry per instruction, byte offsets kept), so traces, backtraces and the
debugger can name every instruction as it appears in the binary.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any, Callable

from interp.binary.decode import LazyBody, instruction_tables, prefixed_entry
from interp.features import Feature
from interp.syntax.module import Func, Instruction
from interp.syntax.opcodes import OPS, Imm, MemArg, Op, op
from interp.syntax.types import FuncType, ValType, ref_type
from interp.syntax.values import f32_from_bits, f64_from_bits
from interp.valid.context import ModuleContext
from interp.valid.function import FunctionValidator, closed_locals


class Branch:
    """A resolved branch: continue at ``target`` after moving ``arity`` values
    from stack height ``source`` to stack height ``height`` (the target label's
    height).  Mutable only while the enclosing function is being lowered (a
    forward branch learns its target at the matching ``end``); then equal
    branches, of any function, are one object (``_shared_branches``)."""

    __slots__ = ("target", "arity", "height", "source")

    def __init__(self, target: int, arity: int, height: int, source: int) -> None:
        self.target = target
        self.arity = arity
        self.height = height
        self.source = source

    @property
    def moves_values(self) -> bool:
        return self.arity > 0 and self.source != self.height

    def __repr__(self) -> str:
        return f"Branch(->{self.target}, arity={self.arity}, {self.source}->{self.height})"


@dataclass(frozen=True, slots=True)
class Return:
    """Leave the function; its results are on the stack from height ``source``."""

    source: int


@dataclass(frozen=True, slots=True)
class HandlerClause:
    """What a catch clause does with an exception it catches.  ``tag`` is
    the tag index it catches (``None``: every exception).  The payload (when
    ``payload``) and then the exception itself (when ``reference``, an
    ``exnref``) are put on the operand stack from ``height`` on, the
    exception also in the slot at height ``exception_height`` when that is
    not ``None`` (a legacy ``catch``, for ``rethrow``), and execution goes on
    at ``target``.  A clause whose label is the function's own goes to the
    function's final ``end`` with the values at height 0: the function
    returns them."""

    tag: int | None
    target: int
    height: int
    payload: bool
    reference: bool
    exception_height: int | None = None


@dataclass(frozen=True, slots=True)
class Handler:
    """The catch clauses that apply to exceptions thrown by the instructions
    ``start`` to ``end`` (exclusive), tried in order; or, for a legacy ``try
    ... delegate``, no clauses and ``delegate_to``: the exception is looked
    for again as if thrown by the instruction at that pc (-1: by the call in
    the caller).  A function's handlers are in the order their blocks close,
    so an inner block's come before those of a block around it."""

    start: int
    end: int
    clauses: tuple[HandlerClause, ...]
    delegate_to: int | None = None


@dataclass(frozen=True, slots=True)
class LoweredFunction:
    """The flat form of one function.  Parallel tuples, one entry per
    instruction of the body: ``ops`` (table rows), ``imms`` (immediates with
    branches resolved, see ``lower_function``), ``heights`` (operand-stack
    height before the instruction) and ``offsets`` (byte offsets, -1 for text:
    an ``array`` of 32-bit integers, four bytes an instruction where a tuple
    of ints took about forty, for a function kept as long as its module)."""

    index: int
    type: FuncType
    local_types: tuple[ValType, ...]  # declared locals, parameters excluded
    num_locals: int                   # parameters + declared locals
    max_height: int
    ops: tuple[Op, ...]
    imms: tuple[Any, ...]
    heights: array
    offsets: array
    handlers: tuple[Handler, ...] = ()

    @property
    def frame_size(self) -> int:
        """Slots a frame needs: locals, then the deepest operand stack."""
        return self.num_locals + self.max_height


_BLOCK, _LOOP, _IF, _ELSE, _END = op("block"), op("loop"), op("if"), op("else"), op("end")
_BR, _BR_IF, _BR_TABLE, _RETURN = op("br"), op("br_if"), op("br_table"), op("return")
_TRY_TABLE, _TRY, _CATCH, _CATCH_ALL, _DELEGATE, _RETHROW = (
    op("try_table"), op("try"), op("catch"), op("catch_all"), op("delegate"), op("rethrow"))
_BR_ON_NULL, _BR_ON_NON_NULL = op("br_on_null"), op("br_on_non_null")
_BR_ON_CAST, _BR_ON_CAST_FAIL = op("br_on_cast"), op("br_on_cast_fail")
_F32_CONST, _F64_CONST = op("f32.const"), op("f64.const")
_CALL, _CALL_INDIRECT, _CALL_REF = op("call"), op("call_indirect"), op("call_ref")
_STRUCT_NEW, _ARRAY_NEW_FIXED = op("struct.new"), op("array.new_fixed")
_ENDS_CODE = frozenset({op("unreachable"), op("throw"), op("throw_ref"), op("return_call"),
                        op("return_call_indirect"), op("return_call_ref")})
"""The instructions after which the rest of the block is unreachable (besides
the branches and ``rethrow``, whose immediates the lowering resolves)."""
_STATIC_ARITY: dict[Op, tuple[int, int]] = {
    operation: operation.arity for operation in OPS
    if operation.arity is not None and operation is not _F32_CONST and operation is not _F64_CONST}
"""The table's arity of the instructions the lowering passes through as they
are; not those it handles one by one (the context gives their arity, or it
replaces their immediate)."""
_ONE_BY_ONE = frozenset({_BLOCK, _LOOP, _IF, _ELSE, _END, _BR, _BR_IF, _BR_TABLE, _RETURN, _TRY_TABLE, _TRY, _CATCH,
                         _CATCH_ALL, _DELEGATE, _RETHROW, _BR_ON_NULL, _BR_ON_NON_NULL, _BR_ON_CAST, _BR_ON_CAST_FAIL,
                         _F32_CONST, _F64_CONST, _CALL, _CALL_INDIRECT, _CALL_REF, _STRUCT_NEW, _ARRAY_NEW_FIXED}
                        | _ENDS_CODE)
"""The instructions ``_Lowering.lower`` handles."""
_UNKNOWN_ARITY = sorted(operation.name for operation in OPS
                        if operation not in _STATIC_ARITY and operation not in _ONE_BY_ONE)
if _UNKNOWN_ARITY:
    raise RuntimeError(f"opcode table: the lowering knows no arity for {' '.join(_UNKNOWN_ARITY)}")
_OPERATION, _IMMEDIATE, _OFFSET = itemgetter(0), itemgetter(1), itemgetter(2)  # of an Instruction
OFFSET_CODE = "i"
"""The ``array`` type code of byte offsets: they fit 32 bits (a module is at most 1 GiB)."""
HEIGHT_CODES = (("B", 1 << 8), ("H", 1 << 16), ("L", 1 << 32))
"""The ``array`` type codes of operand-stack heights, smallest first, each
with the bound of the heights it holds; the first that holds a function's
deepest stack is its heights' (a module's functions rarely go beyond eight
values, and a height is below 2**32: it is bounded by the body's length)."""
_MEMARGS: dict[MemArg, MemArg] = {}
_BRANCHES: dict[tuple[int, int, int, int], Branch] = {}
_MAX_SHARED = 1 << 16
"""The distinct ``MemArg`` and ``Branch`` immediates of lowered functions,
kept shared (each table up to ``_MAX_SHARED``, then started afresh, so a
process lowering many modules keeps bounded tables)."""


def compact_heights(heights: list[int]) -> array:
    """``heights`` in the smallest array type of ``HEIGHT_CODES`` that holds them."""
    deepest = max(heights, default=0)
    code = next(code for code, bound in HEIGHT_CODES if deepest < bound)
    return array(code, heights)


def interned_memarg(memarg: MemArg) -> MemArg:
    """The one kept ``MemArg`` equal to ``memarg``."""
    found = _MEMARGS.get(memarg)
    if found is None:
        if len(_MEMARGS) >= _MAX_SHARED:
            _MEMARGS.clear()
        found = _MEMARGS[memarg] = memarg
    return found


class _Label:
    """A block open around the instruction being lowered (the function body
    is the outermost): where its branches go, what they carry, and the
    operand-stack height it began at (below which its code never pops: code
    after a branch is unreachable and pops nothing that is not there)."""

    __slots__ = ("is_loop", "is_function", "start", "if_pc", "else_pc", "forward", "try_level", "handler",
                 "exits", "height", "arity", "params", "results")

    def __init__(self, is_loop: bool, start: int, height: int, params: int, results: int,
                 is_function: bool = False) -> None:
        self.is_loop = is_loop
        self.is_function = is_function
        self.start = start          # first pc of the body (a loop's branch target)
        self.if_pc = -1             # pc of the `if` opening this label, else -1
        self.else_pc = -1
        self.forward: list[Branch] = []  # branches waiting for the pc after `end`
        self.try_level = -1         # a legacy try: how many legacy tries are around it, else -1
        self.handler: _PendingHandler | None = None  # a try_table's, until its `end`
        self.exits: list[int] = []  # a legacy try's catch/catch_all pcs: jumps to the pc after `end`
        self.height = height        # the operand-stack height at entry, its parameters popped
        self.params = params        # how many values it takes, and (unless a loop) how many it ends with
        self.results = results
        self.arity = params if is_loop else results  # how many values a branch to it carries


class _PendingClause:
    """A catch clause while the function is lowered: its branch (to an outer
    label) learns its target when that label closes."""

    __slots__ = ("tag", "branch", "payload", "reference", "try_level")

    def __init__(self, tag: int | None, branch: Branch | Return, payload: bool, reference: bool,
                 try_level: int = -1) -> None:
        self.tag = tag
        self.branch = branch
        self.payload = payload
        self.reference = reference
        self.try_level = try_level


class _PendingHandler:
    __slots__ = ("start", "end", "clauses", "delegate_to")

    def __init__(self, start: int, end: int = -1, delegate_to: int | None = None) -> None:
        self.start = start
        self.end = end
        self.clauses: list[_PendingClause] = []
        self.delegate_to = delegate_to


def lower_function(context: ModuleContext, index: int, func: Func) -> LoweredFunction:
    """Validate ``func`` (the function at ``index``) and lower it; raises
    ``InvalidError`` exactly where ``validate_function`` would.  For a body
    not known to be valid; ``lower_valid_function`` lowers one that is.

    Lowered immediates, by instruction: ``if`` → pc to continue at when the
    condition is false; ``else`` → pc after the matching ``end``; ``br`` /
    ``br_if`` → ``Branch`` (or ``Return`` when it targets the function body);
    ``br_table`` → ``(tuple of Branch | Return, default)``; ``return`` and the
    final ``end`` → ``Return``; ``f32.const`` / ``f64.const`` → the float value;
    ``try_table``, ``try`` and ``delegate`` → ``None`` (they do nothing when
    nothing is thrown); ``catch`` and ``catch_all`` → the pc after the try's
    ``end`` (where the previous part of the try goes on); ``rethrow`` → the
    height of the slot holding the exception its catch caught;
    ``br_on_null`` / ``br_on_non_null`` → the branch (the first drops the null
    reference, the second carries the reference); ``br_on_cast`` /
    ``br_on_cast_fail`` → ``(branch, the closed type cast to)``;
    everything else → the instruction's own immediate.
    """
    validator = FunctionValidator(context, index, context.funcs[index], func.locals)
    lowered = _lower_instructions(context, index, func, validator.step)
    validator.finish()
    return lowered


def lower_valid_function(context: ModuleContext, index: int, func: Func) -> LoweredFunction:
    """Lower ``func`` (the function at ``index``), known to be valid: what
    ``lower_function`` makes of it, without typing it again.  The lowering
    needs only operand-stack heights, and those follow from each
    instruction's arity (the opcode table's, or the context's) and from where
    code becomes unreachable.  A body still in its binary is lowered
    straight from its bytes, read by the decoder's readers of immediates."""
    body = func.body
    if isinstance(body, LazyBody):
        return _lower_bytes(context, index, func, body)
    return _lower_instructions(context, index, func, None)


def _block_arity(context: ModuleContext, block_type: object) -> tuple[int, int]:
    """How many values a block of ``block_type`` takes and ends with."""
    if block_type is None:
        return 0, 0
    if isinstance(block_type, int):
        func_type = context.func_type_at(block_type)
        return len(func_type.params), len(func_type.results)
    return 0, 1


def _lower_instructions(context: ModuleContext, index: int, func: Func,
                        step: Callable[[Instruction], None] | None) -> LoweredFunction:
    """The lowering of the instructions of ``func``'s body, each first fed to
    ``step`` (a validator's) when given."""
    body = tuple(iter(func.body))  # a lazy body decoded afresh: iterating it keeps nothing (len() would)
    ops = tuple(map(_OPERATION, body))
    lowering = _Lowering(context, list(map(_IMMEDIATE, body)), len(context.funcs[index].results))
    heights = [0] * len(body)
    height = 0
    after = lowering.after
    for pc, arity in enumerate(map(_STATIC_ARITY.get, ops)):
        heights[pc] = height
        if step is not None:
            step(body[pc])
        height = after(pc, ops[pc], arity, height)
    return lowering.finish(index, func, ops, heights, array(OFFSET_CODE, map(_OFFSET, body)))


def _lower_bytes(context: ModuleContext, index: int, func: Func, body: LazyBody) -> LoweredFunction:
    """The lowering of a valid body kept as its bytes, read as the decoder
    reads it (``decode_expr``) but into the lowered form directly."""
    single, prefixed = _lowering_tables(body.features)
    data, pos, end = body.data, body.start, body.end
    ops: list[Op] = []
    imms: list[Any] = []
    heights: list[int] = []
    offsets = array(OFFSET_CODE)
    lowering = _Lowering(context, imms, len(context.funcs[index].results))
    add_offset, add_imm, add_op, add_height = offsets.append, imms.append, ops.append, heights.append
    after = lowering.after
    height = pc = 0
    while pos < end:
        add_offset(pos)
        entry = single[data[pos]]
        if entry is None:
            entry, pos = prefixed_entry(data, pos, prefixed)
        else:
            pos += 1
        operation, reader, arity = entry
        if reader is None:
            add_imm(None)
        else:
            imm, pos = reader(data, pos)
            add_imm(imm)
        add_op(operation)
        add_height(height)
        height = after(pc, operation, arity, height)
        pc += 1
    return lowering.finish(index, func, tuple(ops), heights, offsets)


_LoweringEntry = tuple[Op, Any, "tuple[int, int] | None"]


@cache
def _lowering_tables(features: frozenset[Feature]) -> tuple[list[_LoweringEntry | None],
                                                            dict[tuple[int, int], _LoweringEntry]]:
    """The decoder's instruction tables with, in place of each instruction's
    role in block structure (which a valid body need not check), its arity
    if the lowering passes it through as it is."""
    single, prefixed = instruction_tables(features)

    def lowering_entry(entry: Any) -> _LoweringEntry | None:
        if entry is None:
            return None
        operation, reader = entry[0], entry[1]
        if operation.imm is Imm.MEMARG:
            reader = _interning_reader(reader)
        return operation, reader, _STATIC_ARITY.get(operation)

    return [lowering_entry(entry) for entry in single], {key: lowering_entry(entry)  # type: ignore[misc]
                                                         for key, entry in prefixed.items()}


def _interning_reader(reader: Callable[[bytes, int], tuple[MemArg, int]]
                      ) -> Callable[[bytes, int], tuple[MemArg, int]]:
    """``reader`` of a ``MemArg`` immediate, answering the kept one (``interned_memarg``)."""
    def read(data: bytes, pos: int) -> tuple[MemArg, int]:
        memarg, pos = reader(data, pos)
        return interned_memarg(memarg), pos
    return read


class _Lowering:
    """The state of lowering one function, and the lowering of the
    instructions not passed through as they are (see ``lower_function``).
    The caller keeps ``height`` (the operand-stack height before the
    instruction) for the others, and passes it in and reads it back, with
    ``floor`` (the innermost label's height), around ``lower``."""

    __slots__ = ("context", "imms", "results", "labels", "handlers", "rethrows", "branching", "try_depth",
                 "try_levels", "height", "floor")

    def __init__(self, context: ModuleContext, imms: list[Any], results: int) -> None:
        self.context = context
        self.imms = imms  # the instructions' immediates so far, lowered
        self.results = results  # how many the function returns
        self.labels = [_Label(False, 0, 0, 0, results, is_function=True)]
        self.handlers: list[_PendingHandler] = []
        self.rethrows: list[int] = []  # pcs of `rethrow`, whose immediate is a try level until the end
        self.branching: list[int] = []  # pcs of branches, whose immediates hold a Branch (shared at the end)
        self.try_depth = 0  # legacy tries open around the current instruction
        self.try_levels = 0  # the most legacy tries ever open at once
        self.height = 0
        self.floor = 0

    def after(self, pc: int, operation: Op, arity: tuple[int, int] | None, height: int) -> int:
        """The operand-stack height after the instruction at ``pc``, from the
        height before it: by its static arity (never below the innermost
        block's height, which only unreachable code would pass), or by
        lowering it (control, calls, whatever the context types)."""
        if arity is not None:
            height -= arity[0]
            if height < self.floor:
                height = self.floor
            return height + arity[1]
        self.height = height
        self.lower(pc, operation)
        return self.height

    def branch(self, depth: int, height: int) -> Branch | Return:
        label = self.labels[-1 - depth]
        arity = label.arity
        if label.is_function:
            return Return(height - arity)
        if label.is_loop:
            return Branch(label.start, arity, label.height, height - arity)
        resolved = Branch(-1, arity, label.height, height - arity)
        label.forward.append(resolved)
        return resolved

    def lower(self, pc: int, operation: Op) -> None:
        """Lower the instruction at ``pc`` (its immediate is ``imms[pc]``)."""
        imms, labels, context = self.imms, self.labels, self.context
        height, floor = self.height, self.floor
        imm = imms[pc]
        if operation is _END:
            label = labels.pop()
            if label.is_function:
                # Clamped: below the results only when the end is unreachable, or
                # reached from a handler that put them at height 0.
                imm = Return(max(height - self.results, 0))
                height = self.results
            else:
                imm = None
                for pending in label.forward:
                    pending.target = pc + 1
                if label.if_pc >= 0 and label.else_pc < 0:
                    imms[label.if_pc] = pc + 1
                if label.else_pc >= 0:
                    imms[label.else_pc] = pc + 1
                for exit_pc in label.exits:
                    imms[exit_pc] = pc + 1
                if label.try_level >= 0:
                    self.try_depth -= 1
                elif label.handler is not None:  # a try_table's handlers cover its body
                    label.handler.end = pc
                    self.handlers.append(label.handler)
                height = label.height + label.results
                floor = labels[-1].height
        elif operation is _BLOCK or operation is _LOOP or operation is _IF or operation is _TRY \
                or operation is _TRY_TABLE:
            params, ends_with = _block_arity(context, imm[0] if operation is _TRY_TABLE else imm)
            floor = height - params - (operation is _IF)
            if floor < labels[-1].height:
                floor = labels[-1].height
            label = _Label(operation is _LOOP, pc + 1, floor, params, ends_with)
            labels.append(label)
            if operation is _IF:
                label.if_pc = pc
                imm = -1  # patched at `else` or `end`
            elif operation is _TRY:
                label.try_level = self.try_depth
                self.try_depth += 1
                self.try_levels = max(self.try_levels, self.try_depth)
                imm = None
            else:
                if operation is _TRY_TABLE:
                    label.handler = _PendingHandler(pc + 1)
                    for catch in imm[1]:
                        label.handler.clauses.append(_PendingClause(
                            catch.tag, self.branch(catch.label + 1, height), catch.kind.has_tag,
                            catch.kind.with_reference))
                imm = None
            height = floor + params
        elif operation is _BR_IF:
            label_arity = labels[-1 - imm].arity
            imm = self.branch(imm, height - 1)
            self.branching.append(pc)
            height -= 1 + label_arity
            if height < floor:
                height = floor
            height += label_arity
        elif operation is _CALL or operation is _CALL_INDIRECT or operation is _CALL_REF:
            if operation is _CALL:
                callee = context.funcs[imm]
                height -= len(callee.params)
            else:
                callee = context.func_type_at(imm if operation is _CALL_REF else imm[0])
                height -= len(callee.params) + 1  # and the table index, or the function reference
            if height < floor:
                height = floor
            height += len(callee.results)
            self.height = height
            return
        elif operation is _BR:
            imm = self.branch(imm, height)
            self.branching.append(pc)
            height = floor
        elif operation is _ELSE:
            label = labels[-1]
            imms[label.if_pc] = pc + 1
            label.else_pc = pc
            imm = -1  # patched at `end`
            height = floor + label.params
        elif operation is _RETURN:
            imm = Return(height - self.results)
            height = floor
        elif operation is _BR_TABLE:
            depths, default = imm
            imm = (tuple(self.branch(d, height - 1) for d in depths), self.branch(default, height - 1))
            self.branching.append(pc)
            height = floor
        elif operation in _ENDS_CODE:
            height = floor
            self.height = height
            return
        elif operation is _F32_CONST:
            imm = f32_from_bits(imm)
            height += 1
        elif operation is _F64_CONST:
            imm = f64_from_bits(imm)
            height += 1
        elif operation is _STRUCT_NEW or operation is _ARRAY_NEW_FIXED:
            height -= len(context.struct_type_at(imm).fields) if operation is _STRUCT_NEW else imm[1]
            if height < floor:
                height = floor
            height += 1
            self.height = height
            return
        elif operation is _CATCH or operation is _CATCH_ALL:
            label = labels[-1]
            if label.handler is None:  # the end of the try body, which the handlers cover
                label.handler = _PendingHandler(label.start, pc)
                self.handlers.append(label.handler)
            is_catch = operation is _CATCH
            label.handler.clauses.append(_PendingClause(
                imm if is_catch else None, Branch(pc + 1, 0, floor, height), is_catch, False, label.try_level))
            label.exits.append(pc)
            height = floor + (len(context.tag_at(imm).params) if is_catch else 0)
            imm = -1  # patched at `end`
        elif operation is _DELEGATE:
            label = labels.pop()
            self.try_depth -= 1
            outside = labels[-1 - imm]  # the block the exceptions go on in
            within = label if imm == 0 else labels[-imm]  # the one around the try just inside it
            self.handlers.append(_PendingHandler(label.start, pc, -1 if outside.is_function else within.start - 1))
            for pending in label.forward:
                pending.target = pc + 1
            imm = None
            height = label.height + label.results
            floor = labels[-1].height
        elif operation is _RETHROW:
            imm = labels[-1 - imm].try_level
            self.rethrows.append(pc)
            height = floor
        elif operation is _BR_ON_NULL:
            label_arity = labels[-1 - imm].arity
            imm = self.branch(imm, height - 1)
            self.branching.append(pc)
            height -= 1 + label_arity
            if height < floor:
                height = floor
            height += label_arity + 1
        elif operation is _BR_ON_NON_NULL:
            label_arity = labels[-1 - imm].arity
            imm = self.branch(imm, height)
            self.branching.append(pc)
            height -= label_arity
            if height < floor:
                height = floor
            height += label_arity - 1
        else:  # br_on_cast, br_on_cast_fail (the last of _ONE_BY_ONE)
            depth, _, target = imm
            label_arity = labels[-1 - depth].arity
            imm = (self.branch(depth, height), ref_type(target.nullable, context.heap(target.heap)))
            self.branching.append(pc)
            height -= label_arity
            if height < floor:
                height = floor
            height += label_arity
        imms[pc] = imm
        self.height, self.floor = height, floor

    def finish(self, index: int, func: Func, ops: tuple[Op, ...], heights: list[int], offsets: array
               ) -> LoweredFunction:
        """The lowered function, once every instruction is."""
        context, imms, results, handlers = self.context, self.imms, self.results, self.handlers
        func_type = context.funcs[index]
        count = len(ops)
        max_height = max(max(heights, default=0), self.height)  # the height after pc is the height before pc + 1
        lowered_handlers: tuple[Handler, ...] = ()
        if handlers:
            reached = [_reach(clause, results) for handler in handlers for clause in handler.clauses]
            exception_base = max(reached + [max_height])  # caught values may go above every stack height
            lowered_handlers = tuple(_lowered_handler(handler, count, exception_base) for handler in handlers)
            for pc in self.rethrows:
                imms[pc] = exception_base + imms[pc]
            max_height = exception_base + self.try_levels
        for pc in self.branching:
            imms[pc] = _shared_branches(imms[pc])
        return LoweredFunction(
            index=index,
            type=func_type,
            local_types=closed_locals(context, func.locals),
            num_locals=len(func_type.params) + len(func.locals),
            max_height=max_height,
            ops=ops,
            imms=tuple(imms),
            heights=compact_heights(heights),
            offsets=offsets,
            handlers=lowered_handlers,
        )


def _shared_branches(imm: Any) -> Any:
    """A branch's immediate with each ``Branch`` in it replaced by the kept
    equal one (``_BRANCHES``): once lowered, a branch is never changed, and
    a large module's branches have a few hundred distinct ones among tens of
    thousands (the same moves to the same pcs recur across functions)."""
    if type(imm) is Branch:
        key = (imm.target, imm.arity, imm.height, imm.source)
        found = _BRANCHES.get(key)
        if found is None:
            if len(_BRANCHES) >= _MAX_SHARED:
                _BRANCHES.clear()
            found = _BRANCHES[key] = imm
        return found
    if type(imm) is tuple:  # br_table's (targets, default), br_on_cast's (branch, type)
        return tuple(map(_shared_branches, imm))
    return imm


def _reach(clause: _PendingClause, results: int) -> int:
    """The operand-stack height up to which a clause puts values."""
    branch = clause.branch
    return results if isinstance(branch, Return) else branch.height + branch.arity


def _lowered_handler(handler: _PendingHandler, count: int, exception_base: int) -> Handler:
    """The final form of a handler, once every branch knows its target."""
    clauses = []
    for clause in handler.clauses:
        branch = clause.branch
        target, height = (count - 1, 0) if isinstance(branch, Return) else (branch.target, branch.height)
        exception_height = exception_base + clause.try_level if clause.try_level >= 0 else None
        clauses.append(HandlerClause(clause.tag, target, height, clause.payload, clause.reference, exception_height))
    return Handler(handler.start, handler.end, tuple(clauses), handler.delegate_to)
