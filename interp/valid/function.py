"""Validation of instruction sequences (spec section 3.3), by the algorithm of
the spec's appendix "Validation Algorithm": one pass over the flat instruction
sequence with an operand stack of types and a control stack of frames.

The validator is deliberately step-wise (``FunctionValidator.step``) and keeps
``vals`` and ``ctrls`` exactly as the algorithm has them, because the engine's
translator drives it instruction by instruction and reads the stack heights
and branch targets from it instead of repeating the typing rules.

Typing is driven by the opcode table: an instruction with a fixed signature is
typed by popping its parameters and pushing its results, after a check of its
immediates chosen by their kind (``_IMMEDIATE_CHECK_NAMES``); the instructions
whose typing depends on context have a handler each (``_SPECIAL_HANDLER_NAMES``),
except the local variable accesses, which are frequent enough to be typed in
``step`` itself.  Adding instructions with a fixed signature (SIMD) is
a matter of table rows; lane immediates are already checked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterable, Sequence

from interp.errors import FunctionRef, InvalidError
from interp.features import Feature
from interp.syntax.defined import DefinedType, heap_matches, matches, top_heap
from interp.syntax.module import Expr, Func, Instruction
from interp.syntax.opcodes import OPS, SELECT_TYPED, Imm, MemArg, Op, op as op_named
from interp.syntax.types import (
    EXNREF,
    FUNCREF,
    I32,
    I64,
    FieldType,
    FuncType,
    HeapKind,
    RefType,
    ValType,
    is_defaultable,
    ref_type,
)
from interp.valid.context import ModuleContext, lookup

FUNCTION = "function"
BLOCK = "block"
LOOP = "loop"
IF = "if"
ELSE = "else"
TRY = "try"
CATCH = "catch"
CATCH_ALL = "catch_all"

_FRAME_TEXTS = {BLOCK: "the block", LOOP: "the loop", IF: "the then branch", ELSE: "the else branch",
                TRY: "the try", CATCH: "the catch clause", CATCH_ALL: "the catch_all clause"}
"""How messages name a control frame other than the function body."""

_UNKNOWN_TEXT = "_"
"""How the spec's Unknown (bottom) type appears in messages."""

_I32_ONLY: tuple[ValType, ...] = (I32,)
_EXNREF_ONLY: tuple[ValType, ...] = (EXNREF,)
_CAUGHT_EXCEPTION: tuple[ValType, ...] = (ref_type(False, HeapKind.EXN),)
"""What ``catch_ref`` and ``catch_all_ref`` pass on besides the payload: ``(ref exn)``, never null."""

_BOTTOM_REF = ref_type(False, HeapKind.BOT)
"""The type of a reference taken from unreachable code: it matches every reference type."""
_ANY_REF_IN = {HeapKind.ANY: ref_type(True, HeapKind.EXTERN), HeapKind.EXTERN: ref_type(True, HeapKind.ANY)}


class ControlFrame:
    """One entry of the control stack: a block, loop, if/else, or the function
    body itself (always ``ctrls[0]``).

    ``height`` is the operand stack height at entry, after the block's
    parameters were popped (they are pushed again inside the block);
    ``label_types`` are the types a branch to this frame carries: the
    parameters for a loop, the results otherwise.  ``instr`` is the
    instruction that opened the frame (``None`` for the function body).
    """

    __slots__ = ("kind", "start_types", "end_types", "label_types", "height", "unreachable", "instr",
                 "init_height")

    def __init__(self, kind: str, start_types: tuple[ValType, ...], end_types: tuple[ValType, ...],
                 height: int, instr: Instruction | None = None, init_height: int = 0) -> None:
        self.kind = kind
        self.start_types = start_types
        self.end_types = end_types
        self.label_types = start_types if kind == LOOP else end_types
        self.height = height
        self.unreachable = False
        self.instr = instr
        self.init_height = init_height
        """How many locals had been set in the enclosing code when the block
        began: leaving the block forgets the ones set inside it."""

    def __repr__(self) -> str:
        return (f"<ControlFrame {self.kind} {_format_types(self.start_types)} -> "
                f"{_format_types(self.end_types)} height={self.height}"
                f"{' unreachable' if self.unreachable else ''}>")


@lru_cache(maxsize=1024)
def _has_references(types: tuple[ValType, ...]) -> bool:
    """Whether locals declared with these types need closing and
    initialization tracking (decoded modules share the tuples of equal
    declarations, so this is mostly a lookup)."""
    return any(valtype.is_ref for valtype in types)


def closed_locals(context: ModuleContext, locals: Sequence[ValType]) -> tuple[ValType, ...]:
    """The types of a function's declared locals with their type indices
    closed (for ``local.get`` and for the lowered function)."""
    declared = tuple(locals)
    if declared and _has_references(declared):
        return tuple(map(context.close, declared))
    return declared


def _format_types(types: Sequence[ValType | None]) -> str:
    return "[" + " ".join(_UNKNOWN_TEXT if t is None else t.text for t in types) + "]"


class FunctionValidator:
    """Validates one instruction sequence: a function body, or a constant
    expression (``func_index`` is then ``None``).

    ``vals`` is the operand stack, ``None`` standing for the spec's Unknown
    type that a polymorphic (unreachable) stack produces; ``ctrls`` is the
    control stack, ``ctrls[0]`` being the function body.  Feed every
    instruction, the final ``end`` included, to ``step``, then call ``finish``.
    """

    __slots__ = ("context", "func_index", "func_type", "locals", "vals", "ctrls", "frame", "local_types",
                 "inits")

    def __init__(self, context: ModuleContext, func_index: int | None, func_type: FuncType,
                 locals: Sequence[ValType]) -> None:
        self.context = context
        self.func_index = func_index
        self.func_type = func_type
        declared = closed_locals(context, locals)
        references = bool(declared) and _has_references(declared)
        self.local_types: tuple[ValType, ...] = func_type.params + declared
        """Every local's type (parameters first), closed."""
        self.locals: list[ValType | None] = list(self.local_types)
        """What ``local.get`` finds: the type, or ``None`` while a local
        without a default value has not been set."""
        self.inits: list[int] = []
        """The locals without default set so far, in order (``init_height``
        of a control frame says how many were set before it began)."""
        if references:
            for index, valtype in enumerate(declared, start=len(func_type.params)):
                if not is_defaultable(valtype):
                    self.locals[index] = None
        self.vals: list[ValType | None] = []
        self.ctrls: list[ControlFrame] = [ControlFrame(FUNCTION, (), func_type.results, 0)]
        self.frame: ControlFrame | None = self.ctrls[0]
        """``ctrls[-1]``, or ``None`` once the body has ended."""

    # --- the driver -------------------------------------------------------

    def step(self, instr: Instruction) -> None:
        """Validate one instruction, updating ``vals`` and ``ctrls``.

        Raises ``InvalidError`` located at the instruction.  This is the
        validator's hot path: it types the instructions with a fixed signature
        and the local variable accesses (together most of any real code)
        itself, and calls a handler method only for the other
        context-dependent instructions."""
        kind, handler, params, count, results = _DISPATCH[instr.op.id]
        frame = self.frame
        try:
            if frame is None:
                raise InvalidError("unexpected instruction after the end of the function")
            if kind is _FIXED:
                if handler is not None:
                    # A memory or table of another address type than i32 changes the signature.
                    addressed = handler(self, instr)
                    if addressed is not None:
                        params, count, results = addressed
                vals = self.vals
                if count:
                    base = len(vals) - count
                    if base >= frame.height and vals[base:] == params:
                        del vals[base:]
                    else:
                        del vals[self._match_top(params):]
                if results:
                    vals += results
            elif kind is _CONTEXTUAL:
                handler(self, instr)
            else:
                index = instr.imm
                locals_ = self.locals
                if not 0 <= index < len(locals_):
                    raise InvalidError(f"unknown local {index}")
                local_type = locals_[index]
                vals = self.vals
                if kind is _LOCAL_GET:
                    if local_type is None:
                        raise InvalidError(f"uninitialized local {index}")
                    vals.append(local_type)
                else:
                    if local_type is None:
                        local_type = locals_[index] = self.local_types[index]
                        self.inits.append(index)
                    if len(vals) > frame.height and vals[-1] is local_type:
                        if kind is _LOCAL_SET:
                            vals.pop()
                    else:
                        del vals[self._match_top((local_type,)):]
                        if kind is _LOCAL_TEE:
                            vals.append(local_type)
        except InvalidError as error:
            _locate_at(error, instr, self.func_index)
            raise

    def run(self, instrs: Iterable[Instruction]) -> None:
        """``step`` on each of ``instrs`` in turn."""
        step = self.step
        for instr in instrs:
            step(instr)

    def finish(self) -> None:
        """Check that the sequence ended exactly with the ``end`` closing the
        function body."""
        if self.ctrls:
            raise InvalidError("unexpected end of function body: a block or the body is not closed by end",
                               func=self.func_index)

    # --- the operand and control stacks (the appendix's auxiliary functions)

    def _match_top(self, expected: Sequence[ValType]) -> int:
        """Check that the top of the operand stack matches ``expected`` and
        return the stack index where those operands start, so the caller can
        pop them by truncating ``vals`` there (or leave them in place).

        A polymorphic stack supplies Unknown operands below the frame's
        height, and Unknown matches every type, as the algorithm's
        ``pop_val`` has it."""
        vals = self.vals
        frame = self.frame
        size = len(vals)
        base = size - len(expected)
        skipped = 0
        if base < frame.height:
            if not frame.unreachable:
                self._mismatch(expected, vals[frame.height:])
            skipped = frame.height - base
            base = frame.height
        for position in range(base, size):
            actual = vals[position]
            wanted = expected[position - base + skipped]
            if actual is not wanted and actual is not None and not matches(actual, wanted):
                self._mismatch(expected, vals[base:])
        return base

    @staticmethod
    def _mismatch(expected: Sequence[ValType], actual: Sequence[ValType | None]) -> None:
        raise InvalidError(f"type mismatch: expected {_format_types(expected)}, got {_format_types(actual)}")

    def _pop_vals(self, expected: Sequence[ValType]) -> None:
        vals = self.vals
        count = len(expected)
        if count == 1:
            if len(vals) > self.frame.height and vals[-1] is expected[0]:
                vals.pop()
                return
        elif count == 0:
            return
        del vals[self._match_top(expected):]

    def _pop_val(self) -> ValType | None:
        """Pop one operand of any type (Unknown from a polymorphic stack)."""
        frame = self.frame
        if len(self.vals) == frame.height:
            if frame.unreachable:
                return None
            raise InvalidError("type mismatch: expected an operand, got []")
        return self.vals.pop()

    def _pop_ref(self) -> RefType:
        """Pop a reference (the bottom reference type from a polymorphic stack)."""
        actual = self._pop_val()
        if actual is None:
            return _BOTTOM_REF
        if not actual.is_ref:
            raise InvalidError(f"type mismatch: instruction requires reference type but stack has {actual.text}")
        return actual  # type: ignore[return-value]

    def _push_ctrl(self, kind: str, start_types: tuple[ValType, ...], end_types: tuple[ValType, ...],
                   instr: Instruction) -> None:
        frame = ControlFrame(kind, start_types, end_types, len(self.vals), instr, len(self.inits))
        self.ctrls.append(frame)
        self.frame = frame
        self.vals += start_types

    def _pop_ctrl(self) -> ControlFrame:
        """Check that exactly the frame's results are on the stack and close
        it; the results stay popped (``end`` pushes them again)."""
        frame = self.frame
        vals = self.vals
        if len(vals) - len(frame.end_types) <= frame.height:
            try:
                self._pop_vals(frame.end_types)
            except InvalidError:
                pass  # said below, with what the frame must end with
            else:
                self._drop_ctrl()
                return frame
        raise InvalidError(f"type mismatch: expected {_format_types(frame.end_types)} at the end of "
                           f"{self._frame_text(frame)}, got {_format_types(vals[frame.height:])}")

    def _frame_text(self, frame: ControlFrame) -> str:
        if frame.kind == FUNCTION:
            return "the function" if self.func_index is not None else "the constant expression"
        return _FRAME_TEXTS[frame.kind]

    def _drop_ctrl(self) -> None:
        ctrls = self.ctrls
        frame = ctrls.pop()
        self.frame = ctrls[-1] if ctrls else None
        inits = self.inits
        if len(inits) > frame.init_height:
            for index in inits[frame.init_height:]:
                self.locals[index] = None
            del inits[frame.init_height:]

    def _set_unreachable(self) -> None:
        frame = self.frame
        del self.vals[frame.height:]
        frame.unreachable = True

    def _label(self, depth: int) -> ControlFrame:
        ctrls = self.ctrls
        if 0 <= depth < len(ctrls):
            return ctrls[-1 - depth]
        raise InvalidError(f"unknown label {depth}")

    # --- instructions typed by context (spec 3.3) --------------------------

    def _unreachable(self, instr: Instruction) -> None:
        self._set_unreachable()

    def _block(self, instr: Instruction) -> None:
        self._enter(BLOCK, instr)

    def _loop(self, instr: Instruction) -> None:
        self._enter(LOOP, instr)

    def _if(self, instr: Instruction) -> None:
        self._enter(IF, instr)

    def _try(self, instr: Instruction) -> None:
        self._enter(TRY, instr)

    def _enter(self, kind: str, instr: Instruction) -> None:
        self._enter_block(kind, instr.imm, instr)

    def _enter_block(self, kind: str, block_type: object, instr: Instruction) -> None:
        """Open a block, loop, if, try or try_table: pop its condition (for
        if) and its parameters, which are pushed again inside the new frame."""
        if block_type is None:
            start_types: tuple[ValType, ...] = ()
            end_types: tuple[ValType, ...] = ()
        elif isinstance(block_type, int):
            func_type = self.context.func_type_at(block_type)
            start_types, end_types = func_type.params, func_type.results
        elif block_type.__class__ is RefType:
            start_types, end_types = (), (self.context.close(block_type),)
        else:
            start_types, end_types = (), (block_type,)
        if kind is IF:
            self._pop_vals(_I32_ONLY)
        if start_types:
            self._pop_vals(start_types)
        self._push_ctrl(kind, start_types, end_types, instr)

    def _else(self, instr: Instruction) -> None:
        if self.frame.kind != IF:
            raise InvalidError("else without matching if")
        frame = self._pop_ctrl()
        self._push_ctrl(ELSE, frame.start_types, frame.end_types, instr)

    def _end(self, instr: Instruction) -> None:
        vals = self.vals
        frame = self.frame
        if tuple(vals[frame.height:]) == frame.end_types:
            # The usual case: the stack holds exactly the results, so popping
            # and pushing them again would leave it as it is.
            self._drop_ctrl()
        else:
            self._pop_ctrl()
            vals += frame.end_types
        if frame.kind == IF and frame.start_types != frame.end_types:
            # The missing else branch is empty: it passes the parameters through.
            raise InvalidError(f"type mismatch: if without else requires {_format_types(frame.end_types)}"
                               f" but its parameters are {_format_types(frame.start_types)}")

    def _br(self, instr: Instruction) -> None:
        self._pop_vals(self._label(instr.imm).label_types)
        self._set_unreachable()

    def _br_if(self, instr: Instruction) -> None:
        label_types = self._label(instr.imm).label_types
        self._pop_vals(_I32_ONLY)
        self._pop_vals(label_types)
        self.vals += label_types

    def _br_table(self, instr: Instruction) -> None:
        depths, default = instr.imm
        self._pop_vals(_I32_ONLY)
        default_types = self._label(default).label_types
        arity = len(default_types)
        for depth in depths:
            label_types = self._label(depth).label_types
            if len(label_types) != arity:
                raise InvalidError(f"type mismatch: br_table target {depth} has arity {len(label_types)}"
                                   f" but the default target has arity {arity}")
            self._match_top(label_types)
        self._pop_vals(default_types)
        self._set_unreachable()

    def _return(self, instr: Instruction) -> None:
        self._pop_vals(self.ctrls[0].end_types)
        self._set_unreachable()

    def _call(self, instr: Instruction) -> None:
        func_type = self.context.func_at(instr.imm)
        self._pop_vals(func_type.params)
        self.vals += func_type.results

    def _call_indirect(self, instr: Instruction) -> None:
        func_type = self._indirect_callee_type(instr)
        self._pop_vals(func_type.params)
        self.vals += func_type.results

    def _indirect_callee_type(self, instr: Instruction) -> FuncType:
        """The function type of a ``call_indirect`` (or ``return_call_indirect``),
        its table checked and the table index popped."""
        type_index, table_index = instr.imm
        table = self.context.table_at(table_index)
        func_type = self.context.func_type_at(type_index)
        if not matches(table.elem, FUNCREF):
            raise InvalidError(f"type mismatch: {instr.op.name} requires a table of funcref"
                               f" but table {table_index} has {table.elem.text}")
        self._pop_vals((table.address,))
        return func_type

    # --- tail calls ---------------------------------------------------------

    def _return_call(self, instr: Instruction) -> None:
        self._tail_call(self.context.func_at(instr.imm))

    def _return_call_indirect(self, instr: Instruction) -> None:
        self._tail_call(self._indirect_callee_type(instr))

    def _return_call_ref(self, instr: Instruction) -> None:
        """The operand is a reference to a function of type ``instr.imm``, ``(ref null $t)``."""
        func_type = self.context.func_type_at(instr.imm)
        self._pop_vals((ref_type(True, self.context.types[instr.imm]),))
        self._tail_call(func_type)

    def _tail_call(self, func_type: FuncType) -> None:
        """A tail call returns what the callee returns: its results must
        match the function's; its arguments are popped and the rest is
        unreachable."""
        results = self.ctrls[0].end_types
        if len(func_type.results) != len(results) or \
                not all(matches(given, wanted) for given, wanted in zip(func_type.results, results)):
            raise InvalidError(f"type mismatch: tail call requires results {_format_types(results)}"
                               f" but the callee returns {_format_types(func_type.results)}")
        self._pop_vals(func_type.params)
        self._set_unreachable()

    # --- exceptions ---------------------------------------------------------

    def _throw(self, instr: Instruction) -> None:
        self._pop_vals(self.context.tag_at(instr.imm).params)
        self._set_unreachable()

    def _throw_ref(self, instr: Instruction) -> None:
        self._pop_vals(_EXNREF_ONLY)
        self._set_unreachable()

    def _try_table(self, instr: Instruction) -> None:
        """Each catch clause branches, from outside the block, to its label
        with what it catches: the payload, the exception itself, or both."""
        block_type, catches = instr.imm
        for catch in catches:
            received: tuple[ValType, ...] = ()
            if catch.kind.has_tag:
                received = self.context.tag_at(catch.tag).params
            if catch.kind.with_reference:
                received += _CAUGHT_EXCEPTION
            label_types = self._label(catch.label).label_types
            if len(received) != len(label_types) or \
                    not all(matches(given, wanted) for given, wanted in zip(received, label_types)):
                raise InvalidError(f"type mismatch: {catch.kind.text} passes {_format_types(received)} to label "
                                   f"{catch.label}, which takes {_format_types(label_types)}")
        self._enter_block(BLOCK, block_type, instr)

    def _catch(self, instr: Instruction) -> None:
        self._handler(self.context.tag_at(instr.imm).params, instr, CATCH)

    def _catch_all(self, instr: Instruction) -> None:
        self._handler((), instr, CATCH_ALL)

    def _handler(self, payload: tuple[ValType, ...], instr: Instruction, kind: str) -> None:
        """A legacy ``catch`` or ``catch_all``: the try body (or the previous
        handler) ends, the handler starts with the payload on the stack."""
        if self.frame.kind != TRY and self.frame.kind != CATCH:
            raise InvalidError(f"{instr.op.name} without matching try")
        frame = self._pop_ctrl()
        self._push_ctrl(kind, payload, frame.end_types, instr)

    def _delegate(self, instr: Instruction) -> None:
        """``delegate l`` ends a try without handlers; ``l`` counts from outside it."""
        if self.frame.kind != TRY:
            raise InvalidError("delegate without matching try")
        frame = self._pop_ctrl()
        self._label(instr.imm)
        self.vals += frame.end_types

    def _rethrow(self, instr: Instruction) -> None:
        if self._label(instr.imm).kind not in (CATCH, CATCH_ALL):
            raise InvalidError("invalid rethrow label")
        self._set_unreachable()

    def _call_ref(self, instr: Instruction) -> None:
        func_type = self.context.func_type_at(instr.imm)
        self._pop_vals((ref_type(True, self.context.types[instr.imm]),))
        self._pop_vals(func_type.params)
        self.vals += func_type.results

    def _drop(self, instr: Instruction) -> None:
        self._pop_val()

    def _select(self, instr: Instruction) -> None:
        self._pop_vals(_I32_ONLY)
        first = self._pop_val()
        second = self._pop_val()
        for actual in (first, second):
            if actual is not None and actual.is_ref:
                raise InvalidError(f"type mismatch: select without type requires numeric or vector operands"
                                   f" but stack has {actual.text}")
        if first is not None and second is not None and first is not second:
            raise InvalidError(f"type mismatch: select requires operands of one type"
                               f" but stack has {_format_types((second, first))}")
        self.vals.append(second if first is None else first)

    def _select_typed(self, instr: Instruction) -> None:
        types = instr.imm
        if len(types) != 1:
            raise InvalidError("invalid result arity other than 1 is not (yet) allowed")
        result = self.context.close(types[0])
        self._pop_vals((result, result, I32))
        self.vals.append(result)

    def _global_get(self, instr: Instruction) -> None:
        self.vals.append(lookup(self.context.globals, instr.imm, "global").valtype)

    def _global_set(self, instr: Instruction) -> None:
        global_type = lookup(self.context.globals, instr.imm, "global")
        if not global_type.mutable:
            raise InvalidError("global is immutable")
        self._pop_vals((global_type.valtype,))

    def _table_get(self, instr: Instruction) -> None:
        table = self.context.table_at(instr.imm)
        self._pop_vals((table.address,))
        self.vals.append(table.elem)

    def _table_set(self, instr: Instruction) -> None:
        table = self.context.table_at(instr.imm)
        self._pop_vals((table.address, table.elem))

    def _table_grow(self, instr: Instruction) -> None:
        table = self.context.table_at(instr.imm)
        self._pop_vals((table.elem, table.address))
        self.vals.append(table.address)

    def _table_fill(self, instr: Instruction) -> None:
        table = self.context.table_at(instr.imm)
        self._pop_vals((table.address, table.elem, table.address))

    def _ref_null(self, instr: Instruction) -> None:
        self.vals.append(ref_type(True, self.context.heap(instr.imm)))

    def _ref_is_null(self, instr: Instruction) -> None:
        self._pop_ref()
        self.vals.append(I32)

    def _ref_func(self, instr: Instruction) -> None:
        index = instr.imm
        self.context.func_at(index)
        if index not in self.context.refs:
            raise InvalidError(f"undeclared function reference {index}")
        self.vals.append(ref_type(False, self.context.func_types[index]))

    def _ref_as_non_null(self, instr: Instruction) -> None:
        reference = self._pop_ref()
        self.vals.append(ref_type(False, reference.heap))

    def _br_on_null(self, instr: Instruction) -> None:
        label_types = self._label(instr.imm).label_types
        reference = self._pop_ref()
        self._pop_vals(label_types)
        self.vals += label_types
        self.vals.append(ref_type(False, reference.heap))

    def _br_on_non_null(self, instr: Instruction) -> None:
        label_types = self._label(instr.imm).label_types
        if not label_types or not label_types[-1].is_ref:
            raise InvalidError(f"type mismatch: br_on_non_null requires a label ending in a reference type"
                               f" but the label has {_format_types(label_types)}")
        reference = self._pop_ref()
        if not matches(ref_type(False, reference.heap), label_types[-1]):
            self._mismatch(label_types, (*self.vals[self.frame.height:], reference))
        rest = label_types[:-1]
        self._pop_vals(rest)
        self.vals += rest

    def _br_on_cast(self, instr: Instruction) -> None:
        self._branch_on_cast(instr, fail=False)

    def _br_on_cast_fail(self, instr: Instruction) -> None:
        self._branch_on_cast(instr, fail=True)

    def _branch_on_cast(self, instr: Instruction, fail: bool) -> None:
        """``br_on_cast l rt1 rt2`` branches with the operand as ``rt2`` when
        the cast succeeds and goes on with it as ``rt1`` minus ``rt2``
        otherwise; ``br_on_cast_fail`` the other way round.  ``rt2`` must be
        a subtype of ``rt1``."""
        depth, source, target = instr.imm
        label_types = self._label(depth).label_types
        source, target = self._cast_type(source), self._cast_type(target)
        if not matches(target, source):
            raise InvalidError(f"type mismatch: br_on_cast's target type {target.text}"
                               f" is not a subtype of its source type {source.text}")
        difference = ref_type(source.nullable and not target.nullable, source.heap)
        taken, kept = (difference, target) if fail else (target, difference)
        if not label_types or not matches(taken, label_types[-1]):
            raise InvalidError(f"type mismatch: br_on_cast requires a label ending in {taken.text}"
                               f" but the label has {_format_types(label_types)}")
        self._pop_vals((source,))
        rest = label_types[:-1]
        self._pop_vals(rest)
        self.vals += rest
        self.vals.append(kept)

    def _cast_type(self, reference: RefType) -> RefType:
        return ref_type(reference.nullable, self.context.heap(reference.heap))

    def _ref_test(self, instr: Instruction) -> None:
        target = self._cast_type(instr.imm)
        self._pop_vals((ref_type(True, top_heap(target.heap)),))
        self.vals.append(I32)

    def _ref_cast(self, instr: Instruction) -> None:
        target = self._cast_type(instr.imm)
        self._pop_vals((ref_type(True, top_heap(target.heap)),))
        self.vals.append(target)

    def _convert_reference(self, instr: Instruction, source: HeapKind, result: HeapKind) -> None:
        reference = self._pop_ref()
        if not heap_matches(reference.heap, source):
            self._mismatch((ref_type(True, source),), (reference,))
        self.vals.append(ref_type(reference.nullable, result))

    def _any_convert_extern(self, instr: Instruction) -> None:
        self._convert_reference(instr, HeapKind.EXTERN, HeapKind.ANY)

    def _extern_convert_any(self, instr: Instruction) -> None:
        self._convert_reference(instr, HeapKind.ANY, HeapKind.EXTERN)

    # --- aggregates (structs and arrays) ---

    def _struct_field(self, instr: Instruction) -> tuple[DefinedType, FieldType]:
        type_index, field_index = instr.imm
        fields = self.context.struct_type_at(type_index).fields
        if not 0 <= field_index < len(fields):
            raise InvalidError(f"unknown field {field_index}")
        return self.context.types[type_index], fields[field_index]

    def _struct_new(self, instr: Instruction) -> None:
        struct = self.context.struct_type_at(instr.imm)
        self._pop_vals(tuple(field.unpacked for field in struct.fields))
        self.vals.append(ref_type(False, self.context.types[instr.imm]))

    def _struct_new_default(self, instr: Instruction) -> None:
        struct = self.context.struct_type_at(instr.imm)
        for field in struct.fields:
            if not is_defaultable(field.unpacked):
                raise InvalidError(f"field type {field.unpacked.text} is not defaultable")
        self.vals.append(ref_type(False, self.context.types[instr.imm]))

    def _struct_get(self, instr: Instruction) -> None:
        defined, field = self._struct_field(instr)
        packed_access = instr.op.name != "struct.get"
        if field.is_packed != packed_access:
            raise InvalidError(f"type mismatch: field is {'packed' if field.is_packed else 'unpacked'}")
        self._pop_vals((ref_type(True, defined),))
        self.vals.append(field.unpacked)

    def _struct_set(self, instr: Instruction) -> None:
        defined, field = self._struct_field(instr)
        if not field.mutable:
            raise InvalidError("immutable field")
        self._pop_vals((ref_type(True, defined), field.unpacked))

    def _array(self, index: int) -> tuple[RefType, FieldType]:
        """The nullable reference to the array type at ``index``, and its element."""
        array = self.context.array_type_at(index)
        return ref_type(True, self.context.types[index]), array.field

    def _array_new(self, instr: Instruction) -> None:
        _, element = self._array(instr.imm)
        self._pop_vals((element.unpacked, I32))
        self.vals.append(ref_type(False, self.context.types[instr.imm]))

    def _array_new_default(self, instr: Instruction) -> None:
        _, element = self._array(instr.imm)
        if not is_defaultable(element.unpacked):
            raise InvalidError(f"array type {element.unpacked.text} is not defaultable")
        self._pop_vals(_I32_ONLY)
        self.vals.append(ref_type(False, self.context.types[instr.imm]))

    def _array_new_fixed(self, instr: Instruction) -> None:
        type_index, count = instr.imm
        _, element = self._array(type_index)
        self._pop_vals((element.unpacked,) * count)
        self.vals.append(ref_type(False, self.context.types[type_index]))

    def _check_array_data(self, type_index: int, data_index: int) -> FieldType:
        _, element = self._array(type_index)
        self.context.check_data(data_index)
        if element.unpacked.is_ref:
            raise InvalidError("array type is not numeric or vector")
        return element

    def _check_array_elem(self, type_index: int, elem_index: int) -> FieldType:
        _, element = self._array(type_index)
        elem_type = self.context.elem_at(elem_index)
        if not matches(elem_type, element.unpacked):
            raise InvalidError(f"type mismatch: element segment's type {elem_type.text}"
                               f" does not match the array's element type {element.unpacked.text}")
        return element

    def _array_new_data(self, instr: Instruction) -> None:
        type_index, data_index = instr.imm
        self._check_array_data(type_index, data_index)
        self._pop_vals((I32, I32))
        self.vals.append(ref_type(False, self.context.types[type_index]))

    def _array_new_elem(self, instr: Instruction) -> None:
        type_index, elem_index = instr.imm
        self._check_array_elem(type_index, elem_index)
        self._pop_vals((I32, I32))
        self.vals.append(ref_type(False, self.context.types[type_index]))

    def _array_get(self, instr: Instruction) -> None:
        reference, element = self._array(instr.imm)
        packed_access = instr.op.name != "array.get"
        if element.is_packed != packed_access:
            raise InvalidError(f"type mismatch: array is {'packed' if element.is_packed else 'unpacked'}")
        self._pop_vals((reference, I32))
        self.vals.append(element.unpacked)

    def _mutable_array(self, index: int) -> tuple[RefType, FieldType]:
        reference, element = self._array(index)
        if not element.mutable:
            raise InvalidError("immutable array")
        return reference, element

    def _array_set(self, instr: Instruction) -> None:
        reference, element = self._mutable_array(instr.imm)
        self._pop_vals((reference, I32, element.unpacked))

    def _array_fill(self, instr: Instruction) -> None:
        reference, element = self._mutable_array(instr.imm)
        self._pop_vals((reference, I32, element.unpacked, I32))

    def _array_copy(self, instr: Instruction) -> None:
        destination_index, source_index = instr.imm
        destination, destination_element = self._mutable_array(destination_index)
        source, source_element = self._array(source_index)
        if not _storage_matches(source_element, destination_element):
            raise InvalidError("array types do not match")
        self._pop_vals((destination, I32, source, I32, I32))

    def _array_init_data(self, instr: Instruction) -> None:
        type_index, data_index = instr.imm
        reference, _ = self._mutable_array(type_index)
        self._check_array_data(type_index, data_index)
        self._pop_vals((reference, I32, I32, I32))

    def _array_init_elem(self, instr: Instruction) -> None:
        type_index, elem_index = instr.imm
        reference, _ = self._mutable_array(type_index)
        self._check_array_elem(type_index, elem_index)
        self._pop_vals((reference, I32, I32, I32))

    # --- immediate checks of instructions with a fixed signature -----------
    #
    # Each returns ``None``, or, for an instruction on a memory or table
    # whose address type is not i32 (memory64), its signature there:
    # ``(params, len(params), results)`` (see ``_addressed``).

    def _check_memarg(self, instr: Instruction) -> _Signature | None:
        return self._check_memory_access(instr.op, instr.imm)

    def _check_memarg_lane(self, instr: Instruction) -> _Signature | None:
        memarg, lane = instr.imm
        addressed = self._check_memory_access(instr.op, memarg)
        self._check_lane(instr.op, lane)
        return addressed

    def _check_memory_access(self, op: Op, memarg: MemArg) -> _Signature | None:
        """A load's or store's memory, alignment and offset; its address
        operand has the memory's address type."""
        align, offset, index = memarg
        memory = lookup(self.context.memories, index, "memory")  # ModuleContext.memory_at, a call less
        if align > _NATURAL_ALIGNMENT[op.id]:
            raise InvalidError("alignment must not be larger than natural")
        address = memory.address
        if address is I32:
            if offset > _MAX_U32:
                raise InvalidError("offset out of range")
            return None
        return _addressed(op, (address,), ())

    def _check_lane_imm(self, instr: Instruction) -> None:
        self._check_lane(instr.op, instr.imm)

    @staticmethod
    def _check_lane(op: Op, lane: int) -> None:
        if not 0 <= lane < _LANE_COUNT[op.id]:
            raise InvalidError("invalid lane index")

    def _check_shuffle(self, instr: Instruction) -> None:
        for lane in instr.imm:
            if not 0 <= lane < 32:
                raise InvalidError("invalid lane index")

    def _check_memory(self, instr: Instruction) -> _Signature | None:
        """``memory.size``, ``memory.grow``, ``memory.fill``: sizes, deltas,
        addresses and lengths of the memory's address type (fill's value
        stays i32)."""
        address = self.context.memory_at(instr.imm).address
        if address is I32:
            return None
        op = instr.op
        params = (address, I32, address) if op is _MEMORY_FILL else (address,) * len(op.params)
        return _addressed(op, params, (address,) * len(op.results))

    def _check_memory_copy(self, instr: Instruction) -> _Signature | None:
        destination, source = instr.imm
        return _copy_signature(instr.op, self.context.memory_at(destination).address,
                               self.context.memory_at(source).address)

    def _check_memory_init(self, instr: Instruction) -> _Signature | None:
        data, memory = instr.imm
        address = self.context.memory_at(memory).address
        self.context.check_data(data)
        return None if address is I32 else _addressed(instr.op, (address, I32, I32), ())

    def _check_data(self, instr: Instruction) -> None:
        self.context.check_data(instr.imm)

    def _check_elem(self, instr: Instruction) -> None:
        self.context.elem_at(instr.imm)

    def _check_table(self, instr: Instruction) -> _Signature | None:
        """``table.size`` (the other table instructions are typed by context)."""
        address = self.context.table_at(instr.imm).address
        return None if address is I32 else _addressed(instr.op, (), (address,))

    def _check_table_init(self, instr: Instruction) -> _Signature | None:
        elem_index, table_index = instr.imm
        table = self.context.table_at(table_index)
        elem = self.context.elem_at(elem_index)
        if not matches(elem, table.elem):
            raise InvalidError(f"type mismatch: element segment's type {elem.text}"
                               f" does not match table's element type {table.elem.text}")
        return None if table.address is I32 else _addressed(instr.op, (table.address, I32, I32), ())

    def _check_table_copy(self, instr: Instruction) -> _Signature | None:
        destination, source = instr.imm
        destination_table = self.context.table_at(destination)
        source_table = self.context.table_at(source)
        if not matches(source_table.elem, destination_table.elem):
            raise InvalidError(f"type mismatch: source element type {source_table.elem.text}"
                               f" does not match destination element type {destination_table.elem.text}")
        return _copy_signature(instr.op, destination_table.address, source_table.address)



def _storage_matches(source: FieldType, destination: FieldType) -> bool:
    """Whether elements of ``source``'s storage type can be stored as ``destination``'s."""
    if source.is_packed or destination.is_packed:
        return source.storage is destination.storage
    return matches(source.storage, destination.storage)  # type: ignore[arg-type]


def _locate_at(error: InvalidError, instr: Instruction, func_index: int | None) -> None:
    """Say in ``error`` which instruction (of the function at ``func_index``,
    if any) it is about, unless it says already.  The one place where errors
    raised while typing an instruction learn where they are."""
    if error.instruction is None:
        error.instruction = instr.op.name
        error.offset = instr.offset if instr.offset >= 0 else None
        if func_index is not None:
            error.function = FunctionRef(func_index)


_Handler = Callable[[FunctionValidator, Instruction], object]
_Signature = tuple[list[ValType], int, list[ValType]]
_MAX_U32 = 0xFFFF_FFFF
_MEMORY_FILL = op_named("memory.fill")
_SIGNATURES: dict[tuple[int, tuple[ValType, ...], tuple[ValType, ...]], _Signature] = {}


def _addressed(op: Op, params: tuple[ValType, ...], results: tuple[ValType, ...]) -> _Signature:
    """``op``'s signature on a memory or table of another address type: the
    given leading ``params`` (the rest of the table's after them) and
    ``results`` (likewise), as ``step`` pops and pushes them."""
    key = (op.id, params, results)
    found = _SIGNATURES.get(key)
    if found is None:
        all_params = [*params, *op.params[len(params):]]
        found = _SIGNATURES[key] = (all_params, len(all_params), [*results, *op.results[len(results):]])
    return found


def _copy_signature(op: Op, destination: ValType, source: ValType) -> _Signature | None:
    """``memory.copy`` and ``table.copy`` between address types: the
    destination's, the source's, and for the length the smaller of the two
    (an i32 when either is i32)."""
    if destination is I32 and source is I32:
        return None
    return _addressed(op, (destination, source, I32 if I32 in (destination, source) else I64), ())

_SPECIAL_HANDLER_NAMES: dict[str, str] = {
    "unreachable": "_unreachable",
    "block": "_block",
    "loop": "_loop",
    "if": "_if",
    "else": "_else",
    "end": "_end",
    "br": "_br",
    "br_if": "_br_if",
    "br_table": "_br_table",
    "return": "_return",
    "call": "_call",
    "call_indirect": "_call_indirect",
    "return_call": "_return_call",
    "return_call_indirect": "_return_call_indirect",
    "return_call_ref": "_return_call_ref",
    "throw": "_throw",
    "throw_ref": "_throw_ref",
    "try_table": "_try_table",
    "try": "_try",
    "catch": "_catch",
    "catch_all": "_catch_all",
    "delegate": "_delegate",
    "rethrow": "_rethrow",
    "drop": "_drop",
    "select": "_select",
    "global.get": "_global_get",
    "global.set": "_global_set",
    "table.get": "_table_get",
    "table.set": "_table_set",
    "table.grow": "_table_grow",
    "table.fill": "_table_fill",
    "ref.null": "_ref_null",
    "ref.is_null": "_ref_is_null",
    "ref.func": "_ref_func",
    "ref.as_non_null": "_ref_as_non_null",
    "ref.test": "_ref_test",
    "ref.cast": "_ref_cast",
    "call_ref": "_call_ref",
    "br_on_null": "_br_on_null",
    "br_on_non_null": "_br_on_non_null",
    "br_on_cast": "_br_on_cast",
    "br_on_cast_fail": "_br_on_cast_fail",
    "any.convert_extern": "_any_convert_extern",
    "extern.convert_any": "_extern_convert_any",
    "struct.new": "_struct_new",
    "struct.new_default": "_struct_new_default",
    "struct.get": "_struct_get",
    "struct.get_s": "_struct_get",
    "struct.get_u": "_struct_get",
    "struct.set": "_struct_set",
    "array.new": "_array_new",
    "array.new_default": "_array_new_default",
    "array.new_fixed": "_array_new_fixed",
    "array.new_data": "_array_new_data",
    "array.new_elem": "_array_new_elem",
    "array.get": "_array_get",
    "array.get_s": "_array_get",
    "array.get_u": "_array_get",
    "array.set": "_array_set",
    "array.fill": "_array_fill",
    "array.copy": "_array_copy",
    "array.init_data": "_array_init_data",
    "array.init_elem": "_array_init_elem",
}
"""Instructions whose typing depends on their immediates or the context (the
table gives them no signature), by text name; the typed ``select`` shares its
name with the untyped one and is told apart by its encoding."""

_IMMEDIATE_CHECK_NAMES: dict[Imm, str | None] = {
    Imm.NONE: None,
    Imm.I32: None,
    Imm.I64: None,
    Imm.F32: None,
    Imm.F64: None,
    Imm.V128: None,
    Imm.MEMARG: "_check_memarg",
    Imm.MEMARG_LANE: "_check_memarg_lane",
    Imm.LANE: "_check_lane_imm",
    Imm.SHUFFLE: "_check_shuffle",
    Imm.MEMORY: "_check_memory",
    Imm.MEMORY_COPY: "_check_memory_copy",
    Imm.MEMORY_INIT: "_check_memory_init",
    Imm.DATA: "_check_data",
    Imm.ELEM: "_check_elem",
    Imm.TABLE: "_check_table",
    Imm.TABLE_INIT: "_check_table_init",
    Imm.TABLE_COPY: "_check_table_copy",
}
"""What to check of the immediates of an instruction with a fixed signature, by
immediate kind."""

_FIXED = "fixed signature"
_CONTEXTUAL = "contextual"
_LOCAL_GET = "local.get"
_LOCAL_SET = "local.set"
_LOCAL_TEE = "local.tee"
_LOCAL_KINDS = {kind: kind for kind in (_LOCAL_GET, _LOCAL_SET, _LOCAL_TEE)}
"""By instruction name; ``step`` compares kinds by identity, so the table's
name strings must be mapped to these very objects."""

_DispatchEntry = tuple[str, _Handler | None, list[ValType], int, list[ValType]]


def _build_dispatch(ops: Sequence[Op]) -> tuple[list[_DispatchEntry], list[int], list[int]]:
    """Per opcode id: ``(kind, handler, params, len(params), results)``.

    ``kind`` is ``_FIXED`` for instructions with a signature in the table
    (``handler`` then checks their immediates, if they need it), ``_CONTEXTUAL``
    for those typed by a handler method, or one of ``_LOCAL_KINDS`` for the
    local variable accesses ``step`` types itself.  Also returns, per
    opcode id, the natural alignment and the lane count of lane instructions.
    """
    dispatch: list[_DispatchEntry] = []
    natural_alignment: list[int] = []
    lane_count: list[int] = []
    for op in ops:
        handler_name = "_select_typed" if op is SELECT_TYPED else _SPECIAL_HANDLER_NAMES.get(op.name)
        has_signature = op.params is not None and op.results is not None
        contextual = handler_name is not None or op.name in _LOCAL_KINDS
        if contextual == has_signature:
            raise RuntimeError(f"opcode table: {op.name} needs exactly one of a signature or a typing rule")
        if op.name in _LOCAL_KINDS:
            dispatch.append((_LOCAL_KINDS[op.name], None, [], 0, []))
        elif handler_name is not None:
            dispatch.append((_CONTEXTUAL, getattr(FunctionValidator, handler_name), [], 0, []))
        else:
            if op.imm not in _IMMEDIATE_CHECK_NAMES:
                raise RuntimeError(f"opcode table: no immediate check for {op.name} ({op.imm})")
            check_name = _IMMEDIATE_CHECK_NAMES[op.imm]
            check = getattr(FunctionValidator, check_name) if check_name else None
            params = list(op.params or ())
            dispatch.append((_FIXED, check, params, len(params), list(op.results or ())))
        natural_alignment.append(op.natural_alignment)
        lane_count.append(op.lanes)
    return dispatch, natural_alignment, lane_count


_DISPATCH, _NATURAL_ALIGNMENT, _LANE_COUNT = _build_dispatch(OPS)


def validate_function(context: ModuleContext, func_index: int, func: Func) -> None:
    """Validate the body of a function defined by the module (spec 3.4.1);
    ``func_index`` is its index in the function index space."""
    validator = FunctionValidator(context, func_index, context.func_at(func_index), func.locals)
    validator.run(func.body)
    validator.finish()


_GLOBAL_GET, _I32_CONST, _END_OP = op_named("global.get"), op_named("i32.const"), op_named("end")
_CONSTANT_IMMEDIATES = frozenset({Imm.I32, Imm.I64, Imm.F32, Imm.F64, Imm.V128})
_CONSTANT_OPS = frozenset({op_named(name) for name in (
    "ref.null", "ref.func", "end", "ref.i31", "struct.new", "struct.new_default", "array.new", "array.new_default",
    "array.new_fixed", "any.convert_extern", "extern.convert_any")}
    | {op for op in OPS if op.imm in _CONSTANT_IMMEDIATES})
"""The constant instructions (spec 3.3.10): ``t.const``, ``ref.null``,
``ref.func``, ``ref.i31``, the allocations of structs and arrays, the
conversions between ``any`` and ``extern``, and (checked separately)
``global.get`` of an immutable global; plus the ``end`` that terminates every
expression."""
_EXTENDED_CONSTANT_OPS = _CONSTANT_OPS | {op_named(f"{t}.{operation}") for t in ("i32", "i64")
                                          for operation in ("add", "sub", "mul")}
"""With extended-const, integer addition, subtraction and multiplication too."""


def validate_const_expr(context: ModuleContext, expr: Expr, expected: ValType) -> None:
    """Validate a constant expression of result type ``expected``: first that
    every instruction is constant ("constant expression required"), then its
    typing.  ``context`` decides which globals are visible (in WebAssembly 2.0
    only imported ones: see ``ModuleContext.for_constant_expressions``).

    The usual expression, by far, is a segment's offset ``i32.const n; end``
    (a Go-built module has tens of thousands): it is valid where an ``i32`` is
    expected whatever the context, and is accepted without a validator."""
    if expected is I32 and len(expr) == 2 and expr[0].op is _I32_CONST and expr[1].op is _END_OP:
        return
    constant_ops = _EXTENDED_CONSTANT_OPS if Feature.EXTENDED_CONST in context.features else _CONSTANT_OPS
    for instr in expr:
        op = instr.op
        try:
            constant = not context.global_at(instr.imm).mutable if op is _GLOBAL_GET else op in constant_ops
            if not constant:
                raise InvalidError("constant expression required")
        except InvalidError as error:
            _locate_at(error, instr, None)
            raise
    validator = FunctionValidator(context, None, FuncType((), (expected,)), ())
    validator.run(expr)
    validator.finish()
