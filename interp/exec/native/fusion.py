"""The compiled loop's superinstructions: which short sequences of
instructions run as one case of the loop.

A *shape* is a sequence of parts (``local.get x``, a constant, one
``Compute`` instruction, ``local.set z``, ``br_if`` ...); a *fusion* is a
shape with the instructions filling its ``compute``, ``load`` or ``store``
parts.  The cases are generated from the instructions' semantics by
cython_semantics.py (``fused_case``) and chosen per function where the
lowered code has such a sequence (encode.py's ``_encoding_table``, applied
by encode_words.pyx): a fused instruction replaces the words of the
sequence's first instruction and keeps the others, so that every pc still
names its instruction.

Which sequences: the ones the benchmark programs (and compilers generally)
execute most — operands fetched from locals or constants and combined, a
result computed on at once, the result stored to a local, a comparison
deciding a branch, a load or a store from a local's address (see README,
Performance).  A fused instruction has three operand words, so a shape
fits when what it needs (its first stack slot if it touches the operand
stack, and one word per local, constant, label or offset) fits in three.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

from interp.exec.semantics import Type, access_shape, typed_compute
from interp.syntax.opcodes import OPS, Op
from interp.syntax.semantics import Access, Compute

GET, CONST, COMPUTE, SET, TEE, BR_IF, IF, LOAD, STORE = (
    "local.get", "const", "compute", "local.set", "local.tee", "br_if", "if", "load", "store")
WORD_PARTS = frozenset({GET, CONST, SET, TEE, BR_IF, IF, LOAD, STORE})
"""The parts that take an operand word (a local, constant bits, a label, an offset)."""
OPERAND_WORDS = 3


def _compute(arity: int | None = None, test: bool = False) -> Callable[[Op], bool]:
    def accepts(op: Op) -> bool:
        if not isinstance(op.semantics, Compute) or (arity is not None and len(op.params or ()) != arity):
            return False
        return not test or typed_compute(op).value.type is Type.BOOL
    return accepts


def _access(store: bool) -> Callable[[Op], bool]:
    return lambda op: isinstance(op.semantics, Access) and access_shape(op).store == store


def _address(op: Op) -> bool:
    """The address arithmetic worth fusing with the load after it."""
    return op.name == "i32.add"


def _named(*names: str) -> Callable[[Op], bool]:
    return lambda op: op.name in names


_CHAINS = (
    # hashes and ciphers: a rotation or shift mixed in, sums of mixes (sha256_pattern's rounds)
    ("i32.rotl", "i32.xor"), ("i32.rotr", "i32.xor"), ("i32.shr_u", "i32.xor"), ("i32.shl", "i32.xor"),
    ("i32.xor", "i32.add"), ("i32.and", "i32.xor"), ("i32.add", "i32.add"),
    # floating-point sums of products and a bound test (mandelbrot's iteration)
    ("f64.mul", "f64.add"), ("f64.add", "f64.le"), ("f64.add", "f64.lt"), ("f64.mul", "f64.sub"),
)
"""The computations whose result is the next computation's operand, as
measured most frequent on the benchmark programs: each pair is a case of
its own for each shape below, so the list is short."""


@dataclass(frozen=True)
class Shape:
    parts: tuple[str, ...]
    accepts: Callable[[Op], bool] | None = None  # the instruction of its compute/load/store part
    chains: tuple[tuple[str, str], ...] = ()     # or, for two such parts, the pairs of instructions

    @property
    def name(self) -> str:
        return "+".join(self.parts)


SHAPES: tuple[Shape, ...] = (
    # values from locals and constants, combined, left on the stack or stored to a local
    Shape((GET, GET, COMPUTE), _compute(2)),
    Shape((GET, CONST, COMPUTE), _compute(2)),
    Shape((CONST, COMPUTE), _compute(2)),
    Shape((GET, COMPUTE), _compute()),
    Shape((COMPUTE, SET), _compute()),
    Shape((COMPUTE, TEE), _compute(2)),
    Shape((GET, GET, COMPUTE, SET), _compute(2)),
    Shape((GET, CONST, COMPUTE, SET), _compute(2)),
    Shape((CONST, COMPUTE, SET), _compute(2)),
    Shape((GET, COMPUTE, SET), _compute(2)),
    # a result computed on at once
    Shape((COMPUTE, COMPUTE), chains=_CHAINS),
    Shape((GET, CONST, COMPUTE, COMPUTE), chains=_CHAINS),
    Shape((COMPUTE, CONST, COMPUTE), chains=_CHAINS),
    # a test deciding a branch
    Shape((COMPUTE, BR_IF), _compute(test=True)),
    Shape((COMPUTE, IF), _compute(test=True)),
    Shape((GET, GET, COMPUTE, BR_IF), _compute(2, test=True)),
    Shape((GET, GET, COMPUTE, IF), _compute(2, test=True)),
    Shape((GET, CONST, COMPUTE, BR_IF), _compute(2, test=True)),
    Shape((GET, CONST, COMPUTE, IF), _compute(2, test=True)),
    Shape((CONST, COMPUTE, BR_IF), _compute(2, test=True)),
    Shape((CONST, COMPUTE, IF), _compute(2, test=True)),
    Shape((GET, COMPUTE, BR_IF), _compute(test=True)),
    Shape((GET, COMPUTE, IF), _compute(test=True)),
    Shape((GET, BR_IF)),
    Shape((GET, IF)),
    # memory at a local's or a computed address
    Shape((GET, LOAD), _access(store=False)),
    Shape((COMPUTE, LOAD), None),  # filled below: address arithmetic, then any load
    Shape((GET, STORE), _access(store=True)),
    Shape((CONST, STORE), _access(store=True)),
    Shape((GET, GET, STORE), _access(store=True)),
    Shape((GET, CONST, STORE), _access(store=True)),
    # moving values between locals and the stack
    Shape((GET, SET)),
    Shape((SET, GET)),
    Shape((TEE, GET)),
    Shape((GET, GET)),
)
MAX_PARTS = max(len(shape.parts) for shape in SHAPES)


@dataclass(frozen=True)
class Fusion:
    """One superinstruction: a shape and the instructions of its parts that
    are not locals, constants or branches (``ops``, in part order)."""

    shape: Shape
    ops: tuple[Op, ...]

    @property
    def name(self) -> str:
        return fused_name(self.shape.parts, tuple(op.name for op in self.ops))


def fused_name(parts: tuple[str, ...], op_names: tuple[str, ...]) -> str:
    """The loop's opcode name of a fusion: ``local.get+const+compute:i32.add``."""
    return "+".join(parts) + "".join(":" + name for name in op_names)


def stack_effect(parts: tuple[str, ...], arities: tuple[int, ...]) -> tuple[int, int]:
    """``(below, left)``: how many operand-stack values the sequence takes
    from below its start, and how many it leaves (``arities``: the
    operands' count of each part that is an instruction)."""
    height = lowest = 0
    operations = iter(arities)
    for part in parts:
        if part in (GET, CONST):
            height += 1
        elif part in (SET, BR_IF, IF):
            height -= 1
        elif part == TEE:
            lowest = min(lowest, height - 1)
        elif part == STORE:
            height -= 2
        elif part in (COMPUTE, LOAD):
            height -= next(operations)
            lowest = min(lowest, height)
            height += 1
        lowest = min(lowest, height)
    return -lowest, height - lowest


def operand_words(parts: tuple[str, ...], arities: tuple[int, ...]) -> int:
    """The operand words a fusion needs: its first stack slot when it
    touches the operand stack, and one per word part."""
    below, left = stack_effect(parts, arities)
    return (1 if below or left or TEE in parts else 0) + sum(part in WORD_PARTS for part in parts)


def _candidates(shape: Shape) -> list[tuple[Op, ...]]:
    if shape.chains:
        by_name = {op.name: op for op in OPS}
        return [(by_name[first], by_name[second]) for first, second in shape.chains]
    if shape.parts == (COMPUTE, LOAD):
        loads = [op for op in OPS if _access(store=False)(op)]
        return [(address, load) for address in OPS if _address(address) for load in loads]
    if shape.accepts is None:
        return [()]
    return [(op,) for op in OPS if shape.accepts(op)]


@cache
def fusions() -> tuple[Fusion, ...]:
    """Every superinstruction, in table order: each shape with each
    instruction it accepts, where the result fits an instruction's words."""
    found = []
    for shape in SHAPES:
        for ops in _candidates(shape):
            arities = tuple(len(op.params or ()) for op in ops)
            if operand_words(shape.parts, arities) <= OPERAND_WORDS:
                found.append(Fusion(shape, ops))
    return tuple(found)
