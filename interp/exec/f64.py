"""The ``f64`` numeric instructions (spec 4.3.3), one function per instruction.

``f64.<name>`` is the function ``<name>`` here; the interpreter finds them by
the opcode table's names.  Operands come in stack order and values are plain
Python floats, which are IEEE doubles with round-to-nearest-even arithmetic,
so ``+ - *`` need nothing more than the operator.  Operations that never
create an inexact value are the same for both float widths and come from
``float_ops``.
"""

from __future__ import annotations

from interp.exec import float_ops, int_ops
from interp.syntax.values import f64_from_bits, signed32, signed64

_quotient_by_zero = float_ops.quotient_by_zero
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
sqrt = float_ops.square_root


def add(a: float, b: float) -> float:
    return a + b


def sub(a: float, b: float) -> float:
    return a - b


def mul(a: float, b: float) -> float:
    return a * b


def div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return _quotient_by_zero(a, b)


def convert_i32_s(a: int) -> float:
    return float(signed32(a))


def convert_i64_s(a: int) -> float:
    """CPython converts an int to the nearest double, ties to even."""
    return float(signed64(a))


def convert_i64_u(a: int) -> float:
    return float(a)


convert_i32_u = convert_i64_u


def promote_f32(x: float) -> float:
    """An f32 is already an exact double; only a NaN changes, becoming quiet."""
    if x != x:
        return _quiet(x)
    return x


reinterpret_i64 = f64_from_bits
