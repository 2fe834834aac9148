"""The semantics language: the expressions of the instruction table's
``Compute`` rows (interp/syntax/opcodes.py), parsed and typed for the code
generators of both engines (python_semantics.py, native/cython_semantics.py).

An expression is written in Python's syntax but means WebAssembly's numerics
(spec 4.3), over the operands ``a``, ``b``, ``c`` in stack order:

* types: ``i32``, ``i64`` are unsigned integers of their width, ``s8``,
  ``s16``, ``s32``, ``s64`` signed ones, ``f32``, ``f64`` IEEE floats, and
  comparisons give booleans.  An operand has the type of its signature.
  Integer literals take the type of what they meet (``b & 31``); float
  literals are doubles and are only compared with (exactly, for f32 too).
* conversions are calls named by the type: ``s32(a)`` reads an i32 signed,
  ``i32(x)`` wraps an integer to 32 bits (``i32(a)`` of an i64 is
  ``wrap``) or truncates a float toward zero, ``i64(s32(a))`` sign-extends,
  ``s8(a)`` is the low byte read signed, ``f32(x)`` rounds an integer or a
  double to the nearest f32, ``f64(x)`` converts or promotes.
* arithmetic ``+ - *`` wraps on unsigned integers and rounds on floats; ``/``
  and ``%`` divide unsigned integers, truncate toward zero on signed ones (the
  remainder takes the dividend's sign), and divide floats (by zero: an
  infinity or NaN, as IEEE says); ``& | ^ << >>`` are the bit operations,
  ``>>`` arithmetic on signed values; shift counts must already be below the
  width (``b & 31``); ``-x`` negates a float (flipping the sign bit only);
  ``x if c else y``, ``and``, ``or``, ``not`` and chained comparisons mean
  what they mean in Python.
* functions: ``clz ctz popcnt rotl rotr`` on unsigned integers; ``abs ceil
  floor trunc nearest sqrt min max copysign`` on floats, with the spec's
  rules for NaNs and signed zeros; ``bits(x)`` is a float's bit pattern and
  ``from_bits(x)`` the float of a bit pattern.

The result converts to the instruction's result type when that is lossless
(a boolean becomes the i32 0 or 1, a signed value its unsigned bit pattern of
the same width); anything else must be explicit.  A trap condition must be
a boolean.  Nothing here depends on how an engine represents values: each
generator renders these typed trees its own way.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass
from functools import cache
from typing import Callable

from interp.errors import TrapKind
from interp.syntax.opcodes import Op
from interp.syntax.semantics import Access, Compute
from interp.syntax.types import ValType


class SemanticsError(ValueError):
    """An expression of the table is not in the semantics language, or does
    not type: a mistake in the table, reported when code is generated."""


class Type(enum.Enum):
    """The types of the semantics language: ``(bits, signed, float)``."""

    I32 = (32, False, False)
    I64 = (64, False, False)
    S8 = (8, True, False)
    S16 = (16, True, False)
    S32 = (32, True, False)
    S64 = (64, True, False)
    F32 = (32, False, True)
    F64 = (64, False, True)
    BOOL = (1, False, False)

    def __init__(self, bits: int, signed: bool, is_float: bool) -> None:
        self.bits = bits
        self.signed = signed
        self.is_float = is_float

    @property
    def is_integer(self) -> bool:
        return not self.is_float and self is not Type.BOOL

    @property
    def is_unsigned(self) -> bool:
        return self.is_integer and not self.signed

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    @property
    def text(self) -> str:
        return self.name.lower()


VALUE_TYPES = {ValType.I32: Type.I32, ValType.I64: Type.I64, ValType.F32: Type.F32, ValType.F64: Type.F64}
_NAMED_TYPES = {t.text: t for t in Type if t is not Type.BOOL}


# --- typed trees ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Node:
    type: Type


@dataclass(frozen=True, slots=True)
class Operand(Node):
    index: int  # 0 for a, 1 for b, 2 for c


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: int | float


@dataclass(frozen=True, slots=True)
class Negate(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    operator: str  # + - * / % & | ^ << >>
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    operator: str  # == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical(Node):
    operator: str  # and, or
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Choice(Node):
    test: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Convert(Node):
    """The conversion to ``type`` (a call named by the type)."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class TypedCompute:
    """A ``Compute`` row, typed: ``traps`` are checked in order, then ``value``
    (of a type that converts to ``result``) is the result."""

    op: Op
    operands: tuple[Type, ...]
    result: Type
    value: Node
    traps: tuple[tuple[Node, TrapKind], ...]

    def uses(self, index: int) -> int:
        """How many times operand ``index`` occurs in the traps and the value."""
        return sum(_uses(node, index) for node in (self.value, *(condition for condition, _ in self.traps)))


def _uses(node: Node, index: int) -> int:
    if isinstance(node, Operand):
        return 1 if node.index == index else 0
    return sum(_uses(child, index) for child in children(node))


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Negate, Not, Convert)):
        return (node.operand,)
    if isinstance(node, (Binary, Comparison)):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Choice):
        return (node.test, node.then, node.otherwise)
    if isinstance(node, Call):
        return node.args
    return ()


# --- the functions ----------------------------------------------------------------------

def _same_unsigned(types: tuple[Type, ...]) -> Type | None:
    return types[0] if types[0].is_unsigned and all(t is types[0] for t in types) else None


def _same_float(types: tuple[Type, ...]) -> Type | None:
    return types[0] if types[0].is_float and all(t is types[0] for t in types) else None


def _bits(types: tuple[Type, ...]) -> Type | None:
    return {Type.F32: Type.I32, Type.F64: Type.I64}.get(types[0])


def _from_bits(types: tuple[Type, ...]) -> Type | None:
    return {Type.I32: Type.F32, Type.I64: Type.F64}.get(types[0])


# name -> (arity, the result type for the argument types, or None when they do not fit)
FUNCTIONS: dict[str, tuple[int, Callable[[tuple[Type, ...]], Type | None]]] = {
    "clz": (1, _same_unsigned), "ctz": (1, _same_unsigned), "popcnt": (1, _same_unsigned),
    "rotl": (2, _same_unsigned), "rotr": (2, _same_unsigned),
    "abs": (1, _same_float), "ceil": (1, _same_float), "floor": (1, _same_float), "trunc": (1, _same_float),
    "nearest": (1, _same_float), "sqrt": (1, _same_float),
    "min": (2, _same_float), "max": (2, _same_float), "copysign": (2, _same_float),
    "bits": (1, _bits), "from_bits": (1, _from_bits),
}

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%", ast.BitAnd: "&",
              ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


# --- typing -----------------------------------------------------------------------------

class _Untyped:
    """A literal whose type comes from what it meets."""

    __slots__ = ("value",)

    def __init__(self, value: int | float) -> None:
        self.value = value


class _Typer:
    def __init__(self, op: Op, operands: tuple[Type, ...]) -> None:
        self.op = op
        self.operands = operands

    def fail(self, message: str) -> SemanticsError:
        return SemanticsError(f"{self.op.name}: {message}")

    def typed(self, tree: ast.expr) -> Node:
        node = self.node(tree)
        if isinstance(node, _Untyped):
            raise self.fail(f"the literal {node.value!r} has no type here")
        return node

    def coerce(self, node: Node | _Untyped, target: Type) -> Node:
        if not isinstance(node, _Untyped):
            return node
        value = node.value
        if isinstance(value, float):
            if not target.is_float:
                raise self.fail(f"the float literal {value!r} meets {target.text}")
            return Literal(target, value)
        if not target.is_integer:
            raise self.fail(f"the integer literal {value} meets {target.text} (write a float literal)")
        low = -(1 << (target.bits - 1)) if target.signed else 0
        if not low <= value <= low + target.mask:
            raise self.fail(f"the literal {value} does not fit in {target.text}")
        return Literal(target, value)

    def pair(self, left: ast.expr, right: ast.expr) -> tuple[Node, Node]:
        """Two operands of one type, a literal taking the other's."""
        a, b = self.node(left), self.node(right)
        if isinstance(a, _Untyped) and isinstance(b, _Untyped):
            raise self.fail("an operation on two literals (write its value)")
        if isinstance(a, _Untyped):
            a = self.coerce(a, b.type)  # type: ignore[union-attr]
        if isinstance(b, _Untyped):
            b = self.coerce(b, a.type)
        if a.type is not b.type:
            raise self.fail(f"an operation on {a.type.text} and {b.type.text}")
        return a, b

    def node(self, tree: ast.expr) -> Node | _Untyped:
        if isinstance(tree, ast.Name):
            index = "abc".find(tree.id)
            if len(tree.id) != 1 or not 0 <= index < len(self.operands):
                raise self.fail(f"unknown name {tree.id!r}")
            return Operand(self.operands[index], index)
        if isinstance(tree, ast.Constant) and type(tree.value) in (int, float):
            return _Untyped(tree.value)
        if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
            operand = self.node(tree.operand)
            if isinstance(operand, _Untyped):
                return _Untyped(-operand.value)
            if not operand.type.is_float:
                raise self.fail("negation of an integer (write 0 - x)")
            return Negate(operand.type, operand)
        if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
            return Not(Type.BOOL, self.boolean(tree.operand))
        if isinstance(tree, ast.BinOp) and type(tree.op) in _OPERATORS:
            return self.binary(_OPERATORS[type(tree.op)], tree.left, tree.right)
        if isinstance(tree, ast.Compare):
            return self.comparison(tree)
        if isinstance(tree, ast.BoolOp):
            operator = "and" if isinstance(tree.op, ast.And) else "or"
            return Logical(Type.BOOL, operator, tuple(self.boolean(value) for value in tree.values))
        if isinstance(tree, ast.IfExp):
            then, otherwise = self.pair(tree.body, tree.orelse)
            return Choice(then.type, self.boolean(tree.test), then, otherwise)
        if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and not tree.keywords:
            return self.call(tree.func.id, tree.args)
        raise self.fail(f"not in the semantics language: {ast.unparse(tree)}")

    def boolean(self, tree: ast.expr) -> Node:
        node = self.typed(tree)
        if node.type is not Type.BOOL:
            raise self.fail(f"{ast.unparse(tree)} is not a condition")
        return node

    def binary(self, operator: str, left: ast.expr, right: ast.expr) -> Node:
        if operator in ("<<", ">>"):
            value = self.typed(left)
            count = self.coerce(self.node(right), value.type if value.type.is_unsigned else Type.I32)
            if not value.type.is_integer or not count.type.is_unsigned or \
                    (operator == "<<" and value.type.signed):
                raise self.fail(f"a shift of {value.type.text} by {count.type.text}")
            return Binary(value.type, operator, value, count)
        a, b = self.pair(left, right)
        kind = a.type
        allowed = {"+": kind.is_unsigned or kind.is_float, "-": kind.is_unsigned or kind.is_float,
                   "*": kind.is_unsigned or kind.is_float, "/": kind.is_integer or kind.is_float,
                   "%": kind.is_integer, "&": kind.is_unsigned, "|": kind.is_unsigned, "^": kind.is_unsigned}
        if not allowed[operator]:
            raise self.fail(f"{operator} on {kind.text}")
        return Binary(kind, operator, a, b)

    def comparison(self, tree: ast.Compare) -> Node:
        """A chain ``x < y < z`` is ``x < y and y < z``."""
        links = []
        left = tree.left
        for operator, right in zip(tree.ops, tree.comparators):
            a, b = self.pair(left, right)
            if a.type is Type.BOOL:
                raise self.fail("a comparison of conditions")
            links.append(Comparison(Type.BOOL, _COMPARISONS[type(operator)], a, b))
            left = right
        return links[0] if len(links) == 1 else Logical(Type.BOOL, "and", tuple(links))

    def call(self, name: str, args: list[ast.expr]) -> Node:
        target = _NAMED_TYPES.get(name)
        if target is not None:
            if len(args) != 1:
                raise self.fail(f"{name}() takes one value")
            operand = self.typed(args[0])
            if operand.type is Type.BOOL:
                raise self.fail(f"{name}() of a condition")
            return Convert(target, operand)
        found = FUNCTIONS.get(name)
        if found is None:
            raise self.fail(f"unknown function {name}()")
        arity, result_of = found
        if len(args) != arity:
            raise self.fail(f"{name}() takes {arity} values")
        typed = tuple(self.typed(arg) for arg in args)
        result = result_of(tuple(arg.type for arg in typed))
        if result is None:
            raise self.fail(f"{name}() of {', '.join(arg.type.text for arg in typed)}")
        return Call(result, name, typed)


def _converts(value: Type, result: Type) -> bool:
    """Whether a value of type ``value`` is a result of type ``result`` as it is."""
    if value is result:
        return True
    if value is Type.BOOL:
        return result is Type.I32
    return value.signed and result.is_unsigned and value.bits == result.bits


@cache
def typed_compute(op: Op) -> TypedCompute:
    """The typed form of ``op``'s ``Compute`` semantics (raising ``SemanticsError``)."""
    semantics = op.semantics
    if not isinstance(semantics, Compute) or op.params is None or op.results is None or len(op.results) != 1:
        raise SemanticsError(f"{op.name}: not an instruction of one result computed from its operands")
    try:
        operands = tuple(VALUE_TYPES[t] for t in op.params)
        result = VALUE_TYPES[op.results[0]]
    except KeyError:
        raise SemanticsError(f"{op.name}: the semantics language has no vectors or references") from None
    typer = _Typer(op, operands)
    try:
        value = typer.typed(ast.parse(semantics.expression, mode="eval").body)
        traps = tuple((typer.boolean(ast.parse(condition, mode="eval").body), kind)
                      for condition, kind in semantics.traps)
    except SyntaxError as error:
        raise SemanticsError(f"{op.name}: {error.msg}") from None
    if not _converts(value.type, result):
        raise SemanticsError(f"{op.name}: the expression gives {value.type.text}, the result is {result.text}")
    return TypedCompute(op, operands, result, value, traps)


@dataclass(frozen=True, slots=True)
class AccessShape:
    """A scalar memory access: ``width`` bytes at an address of type
    ``address``, a value of ``type``, a load that sign-extends when
    ``signed``, or a store."""

    store: bool
    width: int
    type: Type
    signed: bool
    address: Type


def access_shape(op: Op) -> AccessShape:
    """What the ``Access`` semantics of ``op`` accesses."""
    semantics = op.semantics
    if not isinstance(semantics, Access) or op.params is None or op.results is None:
        raise SemanticsError(f"{op.name}: not a scalar memory access")
    value = op.params[1] if semantics.store else op.results[0]
    return AccessShape(semantics.store, op.width, VALUE_TYPES[value], semantics.signed, VALUE_TYPES[op.params[0]])
