"""Integer semantics shared by ``i32`` and ``i64`` (spec 4.3.2), parameterised by width.

Values are canonical unsigned ints (``0 <= v < 2**N``), so every operation
that can leave that range masks its result, and signed interpretations are
computed on the fly.  Each instruction is built once, by a factory that closes
over the width's constants: the closures read them as fast cell loads, which
keeps the per-call cost of the interpreter's hot path at a few bytecodes while
the logic itself exists only once for both widths.

The truncations from floats live here too: their outcome depends only on the
integer range, because a float is an exact number and ``int(x)`` truncates it
exactly, whatever the float's width.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from interp.errors import Trap

INTEGER_DIVIDE_BY_ZERO = "integer divide by zero"
INTEGER_OVERFLOW = "integer overflow"
INVALID_CONVERSION = "invalid conversion to integer"

Unary = Callable[[int], int]
Binary = Callable[[int, int], int]


# Comparisons yield an i32 boolean.  Python's operators already are the
# unsigned integer comparisons and the IEEE ordered comparisons (false on
# NaN, -0 == +0), so these serve integers and floats alike.

def eq(a: int | float, b: int | float) -> int:
    return 1 if a == b else 0


def ne(a: int | float, b: int | float) -> int:
    return 1 if a != b else 0


def lt(a: int | float, b: int | float) -> int:
    return 1 if a < b else 0


def gt(a: int | float, b: int | float) -> int:
    return 1 if a > b else 0


def le(a: int | float, b: int | float) -> int:
    return 1 if a <= b else 0


def ge(a: int | float, b: int | float) -> int:
    return 1 if a >= b else 0


def eqz(a: int) -> int:
    return 1 if a == 0 else 0


class IntegerInstructions(NamedTuple):
    """The width-dependent integer instructions of one width, under their
    instruction names (with ``and_``/``or_`` for the Python keywords)."""

    lt_s: Binary
    gt_s: Binary
    le_s: Binary
    ge_s: Binary
    clz: Unary
    ctz: Unary
    popcnt: Unary
    add: Binary
    sub: Binary
    mul: Binary
    div_s: Binary
    div_u: Binary
    rem_s: Binary
    rem_u: Binary
    and_: Binary
    or_: Binary
    xor: Binary
    shl: Binary
    shr_s: Binary
    shr_u: Binary
    rotl: Binary
    rotr: Binary


def integer_instructions(bits: int) -> IntegerInstructions:
    """Build the arithmetic, bitwise and signed-comparison instructions of
    the ``bits``-wide integer type."""
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)
    modulus = 1 << bits
    shift_mask = bits - 1

    # Flipping the sign bit maps signed order onto unsigned order, which saves
    # converting both operands to signed Python ints.
    def lt_s(a: int, b: int) -> int:
        return 1 if (a ^ sign) < (b ^ sign) else 0

    def gt_s(a: int, b: int) -> int:
        return 1 if (a ^ sign) > (b ^ sign) else 0

    def le_s(a: int, b: int) -> int:
        return 1 if (a ^ sign) <= (b ^ sign) else 0

    def ge_s(a: int, b: int) -> int:
        return 1 if (a ^ sign) >= (b ^ sign) else 0

    def clz(a: int) -> int:
        return bits - a.bit_length()

    def ctz(a: int) -> int:
        return (a & -a).bit_length() - 1 if a else bits

    def popcnt(a: int) -> int:
        return a.bit_count()

    def add(a: int, b: int) -> int:
        return (a + b) & mask

    def sub(a: int, b: int) -> int:
        return (a - b) & mask

    def mul(a: int, b: int) -> int:
        return (a * b) & mask

    def div_s(a: int, b: int) -> int:
        if not b:
            raise Trap(INTEGER_DIVIDE_BY_ZERO)
        if a & sign:
            a -= modulus
        if b & sign:
            b -= modulus
        # Wasm truncates toward zero where // floors: for a negative quotient
        # the truncation is the ceiling, -(-a // b).
        quotient = -(-a // b) if (a < 0) != (b < 0) else a // b
        if quotient == sign:  # only MIN / -1 leaves the signed range
            raise Trap(INTEGER_OVERFLOW)
        return quotient & mask

    def div_u(a: int, b: int) -> int:
        if not b:
            raise Trap(INTEGER_DIVIDE_BY_ZERO)
        return a // b

    def rem_s(a: int, b: int) -> int:
        if not b:
            raise Trap(INTEGER_DIVIDE_BY_ZERO)
        if a & sign:
            a -= modulus
        if b & sign:
            b -= modulus
        # The result takes the dividend's sign; Python's % takes the divisor's.
        remainder = a % b
        if remainder and (a < 0) != (b < 0):
            remainder -= b
        return remainder & mask

    def rem_u(a: int, b: int) -> int:
        if not b:
            raise Trap(INTEGER_DIVIDE_BY_ZERO)
        return a % b

    def and_(a: int, b: int) -> int:
        return a & b

    def or_(a: int, b: int) -> int:
        return a | b

    def xor(a: int, b: int) -> int:
        return a ^ b

    def shl(a: int, b: int) -> int:
        return (a << (b & shift_mask)) & mask

    def shr_s(a: int, b: int) -> int:
        if a & sign:
            a -= modulus
        return (a >> (b & shift_mask)) & mask

    def shr_u(a: int, b: int) -> int:
        return a >> (b & shift_mask)

    def rotl(a: int, b: int) -> int:
        k = b & shift_mask
        return ((a << k) | (a >> (bits - k))) & mask

    def rotr(a: int, b: int) -> int:
        k = b & shift_mask
        return ((a >> k) | (a << (bits - k))) & mask

    instructions = IntegerInstructions(
        lt_s, gt_s, le_s, ge_s, clz, ctz, popcnt, add, sub, mul, div_s, div_u,
        rem_s, rem_u, and_, or_, xor, shl, shr_s, shr_u, rotl, rotr)
    for name, function in zip(instructions._fields, instructions):
        function.__qualname__ = f"i{bits}.{name}"
    return instructions


def sign_extension(from_bits: int, to_bits: int) -> Unary:
    """``extendN_s``: sign-extend the low ``from_bits`` bits to ``to_bits``."""
    low = (1 << from_bits) - 1
    sign = 1 << (from_bits - 1)
    mask = (1 << to_bits) - 1

    def extend(a: int) -> int:
        return (((a & low) ^ sign) - sign) & mask

    return extend


def _range(bits: int, signed: bool) -> tuple[int, int]:
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def truncation(bits: int, signed: bool) -> Callable[[float], int]:
    """``trunc_fN_sx``: truncate toward zero, trapping on NaN and when the
    truncated value (not the float) is outside the integer range; so
    ``-0.999`` converts to an unsigned 0, and ``2**31`` traps for i32_s."""
    low, high = _range(bits, signed)
    mask = (1 << bits) - 1

    def trunc(x: float) -> int:
        try:
            value = int(x)
        except OverflowError:  # an infinity
            raise Trap(INTEGER_OVERFLOW) from None
        except ValueError:  # a NaN
            raise Trap(INVALID_CONVERSION) from None
        if low <= value <= high:
            return value & mask
        raise Trap(INTEGER_OVERFLOW)

    return trunc


def saturating_truncation(bits: int, signed: bool) -> Callable[[float], int]:
    """``trunc_sat_fN_sx``: truncate toward zero, clamping to the integer
    range (infinities included) and mapping NaN to 0."""
    low, high = _range(bits, signed)
    mask = (1 << bits) - 1

    def trunc_sat(x: float) -> int:
        try:
            value = int(x)
        except OverflowError:
            return (low if x < 0.0 else high) & mask
        except ValueError:
            return 0
        if value < low:
            return low & mask
        if value > high:
            return high
        return value & mask

    return trunc_sat
