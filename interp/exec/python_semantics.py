"""The instruction table's data semantics rendered as Python: what the step
machine's handlers (bind.py) and compiled blocks (blocks.py) execute, and the
plain functions everything else calls (constant expressions, the lane-wise
vector instructions, tests).

A ``Compute`` expression (semantics.py) becomes one Python expression over
its operands, which keeps values in the representation of
``interp.syntax.values``: integers canonical unsigned ints (masked after
anything that can leave the range), floats Python floats (f32 results rounded
by ``f32_round``), conditions 0 or 1.  Where an operator alone does not have
WebAssembly's meaning the expression calls a primitive of numerics.py.  Trap
conditions become ``if ...: raise Trap(...)`` lines before it.  Everything is
generated on first use, once per instruction.

An ``Access`` becomes a ``struct`` format and a conversion of the value.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any, Callable, Sequence

from interp.errors import Trap, TrapKind
from interp.exec import numerics
from interp.exec.semantics import (
    Binary,
    Call,
    Choice,
    Comparison,
    Convert,
    Literal,
    Logical,
    Negate,
    Node,
    Not,
    Operand,
    SemanticsError,
    Type,
    TypedCompute,
    access_shape,
    typed_compute,
)
from interp.syntax.opcodes import OPS, Op
from interp.syntax.semantics import Compute
from interp.syntax.values import MASK32, MASK64, f32_from_bits, f32_round, f32_to_bits, f64_from_bits, f64_to_bits


NAMESPACE: dict[str, Any] = {
    "Trap": Trap,
    "TrapKind": TrapKind,
    "_f32_round": f32_round,
    "_f32_to_bits": f32_to_bits,
    "_f32_from_bits": f32_from_bits,
    "_f64_to_bits": f64_to_bits,
    "_f64_from_bits": f64_from_bits,
    "_fabs": math.fabs,
    "_copysign": math.copysign,
    "_divide_truncating": numerics.divide_truncating,
    "_remainder_truncating": numerics.remainder_truncating,
    "_divide": numerics.divide,
    "_minimum": numerics.minimum,
    "_maximum": numerics.maximum,
    "_ceiling": numerics.ceiling,
    "_floor": numerics.floor,
    "_truncate": numerics.truncate,
    "_round_to_nearest": numerics.round_to_nearest,
    "_square_root": numerics.square_root,
    "_demote": numerics.demote,
    "_promote": numerics.promote,
    "_round_int_to_f32": numerics.round_int_to_f32,
}
"""The names the generated Python refers to (blocks.py adds them to its own)."""

_ATOM = re.compile(r"[A-Za-z_]\w*(\[\w+\])?|\d+")
_FLOAT_CALLS = {"abs": "_fabs", "ceil": "_ceiling", "floor": "_floor", "trunc": "_truncate",
                "nearest": "_round_to_nearest", "min": "_minimum", "max": "_maximum", "copysign": "_copysign"}


class _Renderer:
    """Renders typed trees as Python expressions, ``operands`` giving the
    expression of each operand (which may be repeated: they must be pure)."""

    def __init__(self, op: Op, operands: Sequence[str]) -> None:
        self.op = op
        self.operands = operands

    def render(self, node: Node) -> str:
        if isinstance(node, Operand):
            return self.operands[node.index]
        if isinstance(node, Literal):
            return f"({node.value!r})" if node.value < 0 else repr(node.value)
        if isinstance(node, Negate):
            return f"(-{self.render(node.operand)})"
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, Logical):
            return "(" + f" {node.operator} ".join(self.render(operand) for operand in node.operands) + ")"
        if isinstance(node, Not):
            return f"(not {self.render(node.operand)})"
        if isinstance(node, Choice):
            return f"({self.render(node.then)} if {self.render(node.test)} else {self.render(node.otherwise)})"
        if isinstance(node, Convert):
            return self.convert(node.operand, node.type)
        if isinstance(node, Call):
            return self.call(node)
        raise SemanticsError(f"{self.op.name}: cannot render {node!r} as Python")

    def atom(self, node: Node) -> str:
        """``node`` rendered as an expression cheap and pure enough to repeat."""
        text = self.render(node)
        if not _ATOM.fullmatch(text):
            raise SemanticsError(f"{self.op.name}: {text} is used more than once; pass an operand")
        return text

    def binary(self, node: Binary) -> str:
        kind, operator = node.type, node.operator
        left, right = self.render(node.left), self.render(node.right)
        if kind.is_float:
            if operator == "/":
                value = f"_divide({left}, {right})"
            else:
                value = f"({left} {operator} {right})"
            return f"_f32_round({value})" if kind is Type.F32 else value
        if operator in ("+", "-", "*", "<<"):
            return f"(({left} {operator} {right}) & {kind.mask})"
        if operator == "/":
            return f"_divide_truncating({left}, {right})" if kind.signed else f"({left} // {right})"
        if operator == "%":
            return f"_remainder_truncating({left}, {right})" if kind.signed else f"({left} % {right})"
        return f"({left} {operator} {right})"

    def comparison(self, node: Comparison) -> str:
        left, right = node.left, node.right
        if left.type.signed and _biasable(left) and _biasable(right):
            # Flipping the sign bit maps signed order onto unsigned order.
            return f"({self.biased(left)} {node.operator} {self.biased(right)})"
        return f"({self.render(left)} {node.operator} {self.render(right)})"

    def biased(self, node: Node) -> str:
        bias = 1 << (node.type.bits - 1)
        if isinstance(node, Convert):
            return f"({self.render(node.operand)} ^ {bias})"
        return self.render(Literal(node.type, (int(self.render(node)) & node.type.mask) ^ bias))

    def convert(self, operand: Node, target: Type) -> str:
        source = operand.type
        value = self.render(operand)
        if source is target:
            return value
        if source.is_float and target.is_float:
            return f"_promote({value})" if target is Type.F64 else f"_demote({value})"
        if source.is_float:
            return f"int({value})"  # the trap conditions or choices keep it in range
        if target.is_float:
            if target is Type.F64:
                return f"float({value})"
            return f"_f32_round(float({value}))" if source.bits <= 32 else f"_round_int_to_f32({value})"
        if target.is_unsigned:
            if source.is_unsigned and source.bits <= target.bits:
                return value
            return f"({value} & {target.mask})"
        if source.signed and source.bits <= target.bits:
            return value
        bias = 1 << (target.bits - 1)
        if source.bits > target.bits or source.signed:
            value = f"({value} & {target.mask})"
        return f"(({value} ^ {bias}) - {bias})"

    def call(self, node: Call) -> str:
        name, kind, args = node.function, node.type, node.args
        if name in _FLOAT_CALLS:
            return f"{_FLOAT_CALLS[name]}({', '.join(self.render(arg) for arg in args)})"
        if name == "sqrt":
            root = f"_square_root({self.render(args[0])})"
            return f"_f32_round({root})" if kind is Type.F32 else root
        if name == "bits":
            return f"_f{kind.bits}_to_bits({self.render(args[0])})"
        if name == "from_bits":
            return f"_f{kind.bits}_from_bits({self.render(args[0])})"
        if name == "clz":
            return f"({kind.bits} - ({self.render(args[0])}).bit_length())"
        if name == "popcnt":
            return f"({self.render(args[0])}).bit_count()"
        if name == "ctz":
            x = self.atom(args[0])
            return f"(({x} & -{x}).bit_length() - 1 if {x} else {kind.bits})"
        x, y = self.atom(args[0]), self.atom(args[1])
        count = f"({y} & {kind.bits - 1})"
        if name == "rotl":
            return f"((({x} << {count}) | ({x} >> ({kind.bits} - {count}))) & {kind.mask})"
        if name == "rotr":
            return f"((({x} >> {count}) | ({x} << ({kind.bits} - {count}))) & {kind.mask})"
        raise SemanticsError(f"{self.op.name}: no Python rendering of {name}()")

    def result(self, typed: TypedCompute) -> str:
        """The value of ``typed`` in the representation of its result type."""
        value = typed.value
        if value.type is Type.BOOL:
            if isinstance(value, Comparison) and isinstance(value.right, Literal) and value.right.value == 0 \
                    and value.operator in ("==", "!=") and value.left.type.is_integer:
                zero, nonzero = ("1", "0") if value.operator == "==" else ("0", "1")
                return f"({nonzero} if {self.render(value.left)} else {zero})"
            return f"(1 if {self.render(value)} else 0)"
        if value.type is not typed.result:  # a signed value of the result's width
            return f"({self.render(value)} & {typed.result.mask})"
        return self.render(value)


def _biasable(node: Node) -> bool:
    """Whether a signed value compares as its unsigned bit pattern with the sign flipped."""
    if isinstance(node, Literal):
        return True
    return isinstance(node, Convert) and node.operand.type.is_unsigned and node.operand.type.bits == node.type.bits


@dataclass(frozen=True)
class PythonCode:
    """A ``Compute`` instruction in Python: ``checks`` are ``(condition, trap
    kind name)`` pairs, then ``value`` is the result."""

    checks: tuple[tuple[str, str], ...]
    value: str

    def lines(self, indent: str) -> list[str]:
        return [f"{indent}if {condition}:\n{indent}    raise Trap(TrapKind.{kind})" for condition, kind in self.checks]


def python_code(op: Op, operands: Sequence[str]) -> PythonCode:
    """``op``'s ``Compute`` semantics over the operand expressions ``operands``
    (pure, cheap expressions: they may be evaluated more than once)."""
    typed = typed_compute(op)
    renderer = _Renderer(op, operands)
    checks = tuple((renderer.render(condition), kind.name) for condition, kind in typed.traps)
    return PythonCode(checks, renderer.result(typed))


def python_condition(op: Op, operands: Sequence[str]) -> str | None:
    """``op``'s value as a Python truth value, for a test that reads it
    once: when ``op`` is a comparison that cannot trap, else ``None``."""
    typed = typed_compute(op)
    if typed.traps or typed.value.type is not Type.BOOL:
        return None
    return _Renderer(op, operands).render(typed.value)


def is_computed(op: Op) -> bool:
    return isinstance(op.semantics, Compute)


def _repeated(op: Op) -> set[int]:
    """The operands that the Python code of ``op`` reads more than once."""
    placeholders = [f"_operand{i}_" for i in range(len(op.params or ()))]
    code = python_code(op, placeholders)
    text = " ".join([code.value, *(condition for condition, _ in code.checks)])
    return {i for i, name in enumerate(placeholders) if text.count(name) > 1}


def _define(name: str, source: str) -> Callable[..., Any]:
    namespace = dict(NAMESPACE)
    exec(compile(source, f"<semantics of {name}>", "exec"), namespace)
    return namespace[name]


@cache
def python_function(op: Op) -> Callable[..., Any]:
    """``op`` (a ``Compute`` instruction) as a plain function of its operands,
    in stack order; traps raise ``Trap``."""
    arguments = [f"x{i}" for i in range(len(op.params or ()))]
    code = python_code(op, arguments)
    name = _identifier(op)
    source = "\n".join([f"def {name}({', '.join(arguments)}):", *code.lines("    "), f"    return {code.value}"])
    function = _define(name, source + "\n")
    function.__qualname__ = op.name
    return function


@cache
def handler_template(op: Op) -> Callable[[list, tuple], int]:
    """The step machine's handler of ``op`` (a ``Compute`` instruction), shared
    by all its instructions: ``handler(R, (*operand_slots, next_pc))`` reads
    the operands from the frame's slots, writes the result over the first and
    returns the next pc (see bind.py)."""
    count = len(op.params or ())
    slots = [f"s{i}" for i in range(count)]
    repeated = _repeated(op)
    operands = [f"x{i}" if i in repeated else f"R[{slots[i]}]" for i in range(count)]
    code = python_code(op, operands)
    body = [f"    {', '.join([*slots, 'nxt'])} = A"]
    body += [f"    x{i} = R[{slots[i]}]" for i in sorted(repeated)]
    body += code.lines("    ")
    body += [f"    R[{slots[0]}] = {code.value}", "    return nxt"]
    name = _identifier(op)
    source = "\n".join([f"def {name}(R, A):", *body])
    return _define(name, source + "\n")


def _identifier(op: Op) -> str:
    return op.name.replace(".", "_")


# --- memory accesses -----------------------------------------------------------------------

_FORMATS = {(1, False): "<B", (1, True): "<b", (2, False): "<H", (2, True): "<h", (4, False): "<I", (4, True): "<i",
            (8, False): "<Q", (8, True): "<q"}


def _masking(mask: int) -> Callable[[int], int]:
    def wrap(value: int) -> int:
        return value & mask
    return wrap


_WRAP = {8: _masking(0xFF), 16: _masking(0xFFFF), 32: _masking(MASK32), 64: _masking(MASK64)}


@cache
def access_format(op: Op) -> tuple[struct.Struct, Callable[[Any], Any] | None]:
    """How an ``Access`` instruction reads or writes memory in Python: the
    ``struct`` of its bytes, and the conversion of the value unpacked (loads)
    or to pack (stores), or ``None``.  A double's bytes are copied verbatim,
    NaN payloads included; an f32 goes through its bit pattern."""
    shape = access_shape(op)
    if shape.type is Type.F64:
        return struct.Struct("<d"), None
    if shape.type is Type.F32:
        return struct.Struct("<I"), f32_to_bits if shape.store else f32_from_bits
    narrow = shape.width * 8 < shape.type.bits
    if shape.store:
        return struct.Struct(_FORMATS[shape.width, False]), _WRAP[shape.width * 8] if narrow else None
    signed = shape.signed and narrow
    return struct.Struct(_FORMATS[shape.width, signed]), _WRAP[shape.type.bits] if signed else None


# --- the functions by type -------------------------------------------------------------------

@cache
def functions(prefix: str) -> SimpleNamespace:
    """The plain functions of the ``Compute`` instructions ``prefix.*``, by
    their names (``and_``, ``or_`` for the Python keywords): ``functions("f32").add``."""
    found = {}
    for op in OPS:
        family, _, name = op.name.partition(".")
        if family == prefix and is_computed(op):
            found[name + "_" if name in ("and", "or") else name] = python_function(op)
    return SimpleNamespace(__name__=prefix, **found)
