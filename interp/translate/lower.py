"""Translation: a function body validated and lowered in one pass into the
flat form that every execution engine runs.

Lowering is the validation of the body: it feeds each instruction to the
validator (``FunctionValidator.step``), so the typing rules exist once and a
body is walked once (``compile_module`` lowers every body in the order
``validate_module`` would validate it).  The lowering only reads the
validator's operand-stack height and control stack to resolve what execution
would otherwise have to compute again and again:

* every branch knows its target ``pc`` (the instruction after the target's
  ``end``, or the first instruction of a ``loop``), how many values it carries
  and where they move, so execution never searches for a matching ``end`` and
  keeps no label stack;
* every instruction knows the operand-stack height before it.  Because that
  height is static, the operand stack is addressed like registers: a frame's
  slots are its locals followed by its stack, and an instruction at height
  ``h`` reads its operands from slots ``num_locals + h - k .. num_locals + h``.

The instruction sequence keeps a one-to-one correspondence with the body (one
lowered entry per instruction, byte offsets kept), so traces, backtraces and the
debugger can name every instruction as it appears in the binary.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from interp.syntax.module import Func
from interp.syntax.opcodes import Imm, Op, op
from interp.syntax.types import FuncType, ValType, ref_type
from interp.syntax.values import f32_from_bits, f64_from_bits
from interp.valid.context import ModuleContext
from interp.valid.function import FunctionValidator


class Branch:
    """A resolved branch: continue at ``target`` after moving ``arity`` values
    from stack height ``source`` to stack height ``height`` (the target label's
    height).  Mutable only while the enclosing function is being lowered (a
    forward branch learns its target at the matching ``end``)."""

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
class LoweredFunction:
    """The flat form of one function.  Parallel tuples, one entry per
    instruction of the body: ``ops`` (table rows), ``imms`` (immediates with
    branches resolved, see ``lower_function``), ``heights`` (operand-stack
    height before the instruction) and ``offsets`` (byte offsets, -1 for text)."""

    index: int
    type: FuncType
    local_types: tuple[ValType, ...]  # declared locals, parameters excluded
    num_locals: int                   # parameters + declared locals
    max_height: int
    ops: tuple[Op, ...]
    imms: tuple[Any, ...]
    heights: tuple[int, ...]
    offsets: tuple[int, ...]

    @property
    def frame_size(self) -> int:
        """Slots a frame needs: locals, then the deepest operand stack."""
        return self.num_locals + self.max_height


_BLOCK, _LOOP, _IF, _ELSE, _END = op("block"), op("loop"), op("if"), op("else"), op("end")
_BR, _BR_IF, _BR_TABLE, _RETURN = op("br"), op("br_if"), op("br_table"), op("return")
_BR_ON_NULL, _BR_ON_NON_NULL = op("br_on_null"), op("br_on_non_null")
_BR_ON_CAST, _BR_ON_CAST_FAIL = op("br_on_cast"), op("br_on_cast_fail")
_LOWERED = frozenset({_BLOCK, _LOOP, _IF, _ELSE, _END, _BR, _BR_IF, _BR_TABLE, _RETURN, op("f32.const"),
                      op("f64.const"), _BR_ON_NULL, _BR_ON_NON_NULL, _BR_ON_CAST, _BR_ON_CAST_FAIL})
"""The instructions whose immediate the lowering replaces."""
_OPERATION, _IMMEDIATE, _OFFSET = itemgetter(0), itemgetter(1), itemgetter(2)  # of an Instruction


class _Label:
    """The lowering's companion of a validator control frame."""

    __slots__ = ("is_loop", "is_function", "start", "if_pc", "else_pc", "forward")

    def __init__(self, is_loop: bool, start: int, if_pc: int = -1, is_function: bool = False) -> None:
        self.is_loop = is_loop
        self.is_function = is_function
        self.start = start          # first pc of a loop body (its branch target)
        self.if_pc = if_pc          # pc of the `if` opening this label, else -1
        self.else_pc = -1
        self.forward: list[Branch] = []  # branches waiting for the pc after `end`


def lower_function(context: ModuleContext, index: int, func: Func) -> LoweredFunction:
    """Validate ``func`` (the function at ``index``) and lower it; raises
    ``InvalidError`` exactly where ``validate_function`` would.

    Lowered immediates, by instruction: ``if`` → pc to continue at when the
    condition is false; ``else`` → pc after the matching ``end``; ``br`` /
    ``br_if`` → ``Branch`` (or ``Return`` when it targets the function body);
    ``br_table`` → ``(tuple of Branch | Return, default)``; ``return`` and the
    final ``end`` → ``Return``; ``f32.const`` / ``f64.const`` → the float value;
    ``br_on_null`` / ``br_on_non_null`` → the branch (the first drops the null
    reference, the second carries the reference); ``br_on_cast`` /
    ``br_on_cast_fail`` → ``(branch, the closed type cast to)``;
    everything else → the instruction's own immediate.
    """
    func_type = context.funcs[index]
    validator = FunctionValidator(context, index, func_type, func.locals)
    step, vals, ctrls = validator.step, validator.vals, validator.ctrls
    body = func.body
    count = len(body)
    imms: list[Any] = list(map(_IMMEDIATE, body))
    heights = [0] * count
    labels = [_Label(False, 0, is_function=True)]

    def branch(depth: int, height: int) -> Branch | Return:
        frame = ctrls[-1 - depth]
        label = labels[-1 - depth]
        arity = len(frame.label_types)
        if label.is_function:
            return Return(height - arity)
        if label.is_loop:
            return Branch(label.start, arity, frame.height, height - arity)
        resolved = Branch(-1, arity, frame.height, height - arity)
        label.forward.append(resolved)
        return resolved

    for pc in range(count):
        instr = body[pc]
        operation = instr.op
        height = len(vals)
        heights[pc] = height
        step(instr)
        if operation in _LOWERED:
            imm = instr.imm
            if operation is _END:
                label = labels.pop()
                if label.is_function:
                    imm = Return(height - len(func_type.results))
                else:
                    imm = None
                    for pending in label.forward:
                        pending.target = pc + 1
                    if label.if_pc >= 0 and label.else_pc < 0:
                        imms[label.if_pc] = pc + 1
                    if label.else_pc >= 0:
                        imms[label.else_pc] = pc + 1
            elif operation is _BLOCK:
                labels.append(_Label(False, pc + 1))
                imm = None
            elif operation is _LOOP:
                labels.append(_Label(True, pc + 1))
                imm = None
            elif operation is _IF:
                labels.append(_Label(False, pc + 1, if_pc=pc))
                imm = -1  # patched at `else` or `end`
            elif operation is _ELSE:
                label = labels[-1]
                imms[label.if_pc] = pc + 1
                label.else_pc = pc
                imm = -1  # patched at `end`
            elif operation is _BR:
                imm = branch(imm, height)
            elif operation is _BR_IF:
                imm = branch(imm, height - 1)
            elif operation is _BR_TABLE:
                depths, default = imm
                imm = (tuple(branch(d, height - 1) for d in depths), branch(default, height - 1))
            elif operation is _RETURN:
                imm = Return(height - len(func_type.results))
            elif operation is _BR_ON_NULL:
                imm = branch(imm, height - 1)
            elif operation is _BR_ON_NON_NULL:
                imm = branch(imm, height)
            elif operation is _BR_ON_CAST or operation is _BR_ON_CAST_FAIL:
                depth, _, target = imm
                imm = (branch(depth, height), ref_type(target.nullable, context.heap(target.heap)))
            elif operation.imm is Imm.F32:
                imm = f32_from_bits(imm)
            else:
                imm = f64_from_bits(imm)
            imms[pc] = imm
    validator.finish()
    max_height = max(max(heights, default=0), len(vals))  # the height after pc is the height before pc + 1
    return LoweredFunction(
        index=index,
        type=func_type,
        local_types=validator.local_types[len(func_type.params):],
        num_locals=len(func_type.params) + len(func.locals),
        max_height=max_height,
        ops=tuple(map(_OPERATION, body)),
        imms=tuple(imms),
        heights=tuple(heights),
        offsets=tuple(map(_OFFSET, body)),
    )
