"""The ``f32`` numeric instructions (spec 4.3.3), one function per instruction.

``f32.<name>`` is the function ``<name>`` here; the interpreter finds them by
the opcode table's names.  Operands come in stack order; values are floats
exactly representable in single precision, with f32 NaNs in the mapping of
``interp.syntax.values``.  Every inexact result is computed in double
precision and rounded once to f32: for ``+ - * / sqrt`` of f32 operands the
double result is rounded at most once more, which cannot change the outcome
(a double has more than twice the precision of an f32 plus two bits).  The
integer conversions from i64 do not have that margin and round directly.

Operations that never create an inexact value are the same for both float
widths and come from ``float_ops``.
"""

from __future__ import annotations

from interp.exec import float_ops, int_ops
from interp.syntax.values import f32_from_bits, f32_round, signed32, signed64

_round = f32_round
_quotient_by_zero = float_ops.quotient_by_zero
_square_root = float_ops.square_root
_round_int = float_ops.round_int_to_f32
_quiet = float_ops.quiet

eq = int_ops.eq
ne = int_ops.ne
lt = int_ops.lt
gt = int_ops.gt
le = int_ops.le
ge = int_ops.ge

abs = float_ops.absolute  # noqa: A001 - instruction names shadow builtins here
neg = float_ops.negate
copysign = float_ops.copy_sign
ceil = float_ops.ceiling
floor = float_ops.floor
trunc = float_ops.truncate
nearest = float_ops.round_to_nearest
min = float_ops.minimum  # noqa: A001
max = float_ops.maximum  # noqa: A001


def add(a: float, b: float) -> float:
    return _round(a + b)


def sub(a: float, b: float) -> float:
    return _round(a - b)


def mul(a: float, b: float) -> float:
    return _round(a * b)


def div(a: float, b: float) -> float:
    try:
        return _round(a / b)
    except ZeroDivisionError:
        return _quotient_by_zero(a, b)


def sqrt(x: float) -> float:
    return _round(_square_root(x))


def convert_i32_s(a: int) -> float:
    return _round(float(signed32(a)))


def convert_i32_u(a: int) -> float:
    return _round(float(a))


def convert_i64_s(a: int) -> float:
    return _round_int(signed64(a))


def convert_i64_u(a: int) -> float:
    return _round_int(a)


def demote_f64(x: float) -> float:
    """Round an f64 to f32; a NaN comes out quiet (its payload's top bits kept)."""
    if x != x:
        return _round(_quiet(x))
    return _round(x)


reinterpret_i32 = f32_from_bits
