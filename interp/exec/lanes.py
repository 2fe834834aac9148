"""Lane machinery shared by the vector instructions (spec 4.3.4 "Vector
Operations").

A ``v128`` value is a Python int, ``0 <= v < 2**128``, lane 0 in the low bits
(see ``interp.syntax.values``).  A vector instruction splits its operands into
lanes, applies the scalar operation lane by lane and joins the results; a
``Shape`` (``i8x16`` ... ``f64x2``) knows how to do the splitting and joining
for its lane type, and the factories below build each family of instructions
once for every shape, so that ``i8x16.add`` and ``i64x2.add`` are the same code
over different shapes.

Splitting goes through ``int.to_bytes`` and one precompiled ``struct`` format
per shape, which is several times faster than shifting and masking lane by
lane.  Float lanes reuse the scalar representation: an f64 lane is a float
read verbatim, an f32 lane goes through ``f32_from_bits`` / ``f32_to_bits`` so
that NaN payloads (signalling ones included) survive the round trip.  The
float semantics themselves (rounding, NaN rules, min/max, nearest) come from
the scalar modules, never re-implemented here.
"""

from __future__ import annotations

import struct
from typing import Callable, NamedTuple

from interp.syntax.values import (
    MASK32,
    f32_from_bits,
    f32_to_bits,
    f64_from_bits,
    f64_to_bits,
)

V128_BYTES = 16
MASK128 = (1 << 128) - 1

Unary = Callable[[int], int]
Binary = Callable[[int, int], int]


def saturate(value: int, low: int, high: int) -> int:
    """``value`` clamped to ``low .. high`` (the spec's ``sat``)."""
    if value < low:
        return low
    if value > high:
        return high
    return value


def _identity(x: int) -> int:
    return x


class Shape:
    """How a ``v128`` divides into lanes: ``count`` lanes of ``bits`` bits.

    ``split`` gives the lanes as their scalar values (unsigned ints for
    integer shapes, floats for float shapes) and ``join`` builds a vector from
    such values (integers of any sign are wrapped to the lane width);
    ``split_signed`` reads the lanes as signed integers.  ``to_bits`` /
    ``from_bits`` convert one lane value to and from its bit pattern.
    """

    __slots__ = ("name", "bits", "count", "mask", "split", "split_signed", "join",
                 "to_bits", "from_bits", "replicator", "signed_min", "signed_max")

    def __init__(self, name: str, bits: int, is_float: bool) -> None:
        self.name = name
        self.bits = bits
        self.count = count = 128 // bits
        self.mask = mask = (1 << bits) - 1
        self.signed_min = -(1 << (bits - 1))
        self.signed_max = (1 << (bits - 1)) - 1
        # Multiplying a lane value by this repeats it in every lane.
        self.replicator = sum(1 << (bits * i) for i in range(count))
        unsigned_format, signed_format = _INT_FORMATS[bits]
        unpack_unsigned = struct.Struct(f"<{count}{unsigned_format}").unpack
        unpack_signed = struct.Struct(f"<{count}{signed_format}").unpack
        pack_unsigned = struct.Struct(f"<{count}{unsigned_format}").pack
        from_bytes = int.from_bytes

        def split_unsigned(v: int) -> tuple[int, ...]:
            return unpack_unsigned(v.to_bytes(V128_BYTES, "little"))

        def split_signed(v: int) -> tuple[int, ...]:
            return unpack_signed(v.to_bytes(V128_BYTES, "little"))

        def join_ints(lanes: list[int]) -> int:
            return from_bytes(pack_unsigned(*[x & mask for x in lanes]), "little")

        self.split_signed = split_signed
        if not is_float:
            self.split, self.join = split_unsigned, join_ints
            self.to_bits: Callable[[object], int] = lambda x: x & mask  # type: ignore[operator]
            self.from_bits: Callable[[int], object] = _identity
        elif bits == 64:
            # A double's bytes are copied verbatim by struct, NaN payloads included.
            unpack_doubles = struct.Struct("<2d").unpack
            pack_doubles = struct.Struct("<2d").pack

            def split_doubles(v: int) -> tuple[float, ...]:
                return unpack_doubles(v.to_bytes(V128_BYTES, "little"))

            def join_doubles(lanes: list[float]) -> int:
                return from_bytes(pack_doubles(*lanes), "little")

            self.split, self.join = split_doubles, join_doubles
            self.to_bits, self.from_bits = f64_to_bits, f64_from_bits
        else:
            def split_singles(v: int) -> list[float]:
                return [f32_from_bits(x) for x in split_unsigned(v)]

            def join_singles(lanes: list[float]) -> int:
                return from_bytes(pack_unsigned(*[f32_to_bits(x) for x in lanes]), "little")

            self.split, self.join = split_singles, join_singles
            self.to_bits, self.from_bits = f32_to_bits, f32_from_bits

    def __repr__(self) -> str:
        return f"<Shape {self.name}>"


_INT_FORMATS = {8: ("B", "b"), 16: ("H", "h"), 32: ("I", "i"), 64: ("Q", "q")}

I8X16 = Shape("i8x16", 8, False)
I16X8 = Shape("i16x8", 16, False)
I32X4 = Shape("i32x4", 32, False)
I64X2 = Shape("i64x2", 64, False)
F32X4 = Shape("f32x4", 32, True)
F64X2 = Shape("f64x2", 64, True)

_INTEGER_SHAPE_OF_WIDTH = {8: I8X16, 16: I16X8, 32: I32X4, 64: I64X2}


# --- lane-wise application -----------------------------------------------------

# The comparisons of lane values (unsigned or signed ints), giving 1 or 0 as
# the scalar comparisons do.

def _equal(x: int, y: int) -> int:
    return 1 if x == y else 0


def _not_equal(x: int, y: int) -> int:
    return 1 if x != y else 0


def _less(x: int, y: int) -> int:
    return 1 if x < y else 0


def _greater(x: int, y: int) -> int:
    return 1 if x > y else 0


def _less_or_equal(x: int, y: int) -> int:
    return 1 if x <= y else 0


def _greater_or_equal(x: int, y: int) -> int:
    return 1 if x >= y else 0



def lanewise_unary(shape: Shape, function: Callable, signed: bool = False) -> Unary:
    """``function`` applied to every lane (read signed when ``signed``)."""
    split = shape.split_signed if signed else shape.split
    join = shape.join

    def unary(a: int) -> int:
        return join([function(x) for x in split(a)])
    return unary


def lanewise_binary(shape: Shape, function: Callable, signed: bool = False) -> Binary:
    """``function`` applied to every pair of corresponding lanes."""
    split = shape.split_signed if signed else shape.split
    join = shape.join

    def binary(a: int, b: int) -> int:
        return join([function(x, y) for x, y in zip(split(a), split(b))])
    return binary


def lanewise_ternary(shape: Shape, function: Callable) -> Callable[[int, int, int], int]:
    """``function`` applied to every triple of corresponding lanes."""
    split, join = shape.split, shape.join

    def ternary(a: int, b: int, c: int) -> int:
        return join([function(x, y, z) for x, y, z in zip(split(a), split(b), split(c))])
    return ternary


def comparison(shape: Shape, predicate: Callable[[object, object], int], signed: bool = False) -> Binary:
    """A lane-wise comparison: a lane of all ones where ``predicate`` (which
    returns 1 or 0, as the scalar comparisons do) holds, else zero."""
    split = shape.split_signed if signed else shape.split
    join = _INTEGER_SHAPE_OF_WIDTH[shape.bits].join  # -1 wraps to all ones

    def compare(a: int, b: int) -> int:
        return join([-predicate(x, y) for x, y in zip(split(a), split(b))])
    return compare


def shift(shape: Shape, function: Callable[[int, int], int], signed: bool = False) -> Binary:
    """A lane-wise shift by an i32 amount taken modulo the lane width."""
    split = shape.split_signed if signed else shape.split
    join = shape.join
    modulo = shape.bits - 1

    def shift_lanes(a: int, amount: int) -> int:
        k = amount & modulo
        return join([function(x, k) for x in split(a)])
    return shift_lanes


# --- lane access ------------------------------------------------------------------

def splat(shape: Shape) -> Callable[[object], int]:
    """A vector with the scalar in every lane."""
    to_bits, replicator = shape.to_bits, shape.replicator

    def splat_lanes(x: object) -> int:
        return to_bits(x) * replicator
    return splat_lanes


def extract_lane(shape: Shape, signed: bool = False) -> Callable[[int, int], object]:
    """The scalar in lane ``lane``; a ``signed`` extraction of a narrow
    integer lane sign-extends it to an i32."""
    bits, mask, from_bits = shape.bits, shape.mask, shape.from_bits
    if signed:
        sign = 1 << (bits - 1)

        def extract_signed(v: int, lane: int) -> int:
            return ((((v >> (lane * bits)) & mask) ^ sign) - sign) & MASK32
        return extract_signed

    def extract(v: int, lane: int) -> object:
        return from_bits((v >> (lane * bits)) & mask)
    return extract


def replace_lane(shape: Shape) -> Callable[[int, object, int], int]:
    """``v`` with lane ``lane`` replaced by the scalar ``x``."""
    bits, mask, to_bits = shape.bits, shape.mask, shape.to_bits

    def replace(v: int, x: object, lane: int) -> int:
        position = lane * bits
        return (v & ~(mask << position)) | (to_bits(x) << position)
    return replace


# --- changes of shape -------------------------------------------------------------

def narrow(source: Shape, target: Shape, signed: bool) -> Binary:
    """``narrow``: the signed lanes of both operands saturated into the
    target's signed or unsigned range, first operand's in the low lanes."""
    split, join = source.split_signed, target.join
    low, high = (target.signed_min, target.signed_max) if signed else (0, target.mask)

    def narrow_lanes(a: int, b: int) -> int:
        return join([saturate(x, low, high) for x in split(a) + split(b)])
    return narrow_lanes


def _half(source: Shape, signed: bool, high: bool) -> Callable[[int], tuple[int, ...]]:
    """The low or high half of the lanes of ``source``, read signed or not."""
    split = source.split_signed if signed else source.split
    half = source.count // 2
    if high:
        return lambda v: split(v)[half:]
    return lambda v: split(v)[:half]


def extend(source: Shape, target: Shape, signed: bool, high: bool) -> Unary:
    """``extend_low`` / ``extend_high``: half of the narrow lanes, each
    extended to the double-width lanes of ``target``."""
    half, join = _half(source, signed, high), target.join

    def extend_lanes(a: int) -> int:
        return join(list(half(a)))
    return extend_lanes


def extended_multiply(source: Shape, target: Shape, signed: bool, high: bool) -> Binary:
    """``extmul_low`` / ``extmul_high``: products of the extended halves,
    which always fit the double-width lanes."""
    half, join = _half(source, signed, high), target.join

    def extmul(a: int, b: int) -> int:
        return join([x * y for x, y in zip(half(a), half(b))])
    return extmul


def extended_pairwise_add(source: Shape, target: Shape, signed: bool) -> Unary:
    """``extadd_pairwise``: sums of adjacent extended lanes."""
    split, join = (source.split_signed if signed else source.split), target.join

    def extadd(a: int) -> int:
        lanes = split(a)
        return join([x + y for x, y in zip(lanes[0::2], lanes[1::2])])
    return extadd


def conversion(source: Shape, target: Shape, scalar: Callable[[object], object]) -> Unary:
    """A lane-wise conversion by the scalar instruction ``scalar`` from the
    lanes of ``source`` (as that instruction takes them: unsigned integers or
    floats) to those of ``target``.  When the target has fewer lanes only the
    low source lanes are converted (``convert_low``, ``promote_low``); when it
    has more, the missing high lanes are zero (``demote ... _zero``,
    ``trunc_sat ... _zero``)."""
    split, join = source.split, target.join
    taken = min(source.count, target.count)
    padding = [target.from_bits(0)] * (target.count - taken)

    def convert(a: int) -> int:
        return join([scalar(x) for x in split(a)[:taken]] + padding)
    return convert


# --- the instruction sets of one shape ------------------------------------------------

class IntegerLaneInstructions(NamedTuple):
    """The instructions every integer shape has, under their names (not every
    shape has each of them: there is no ``i64x2.min_s``, for example; each
    shape's module binds those that exist)."""

    splat: Callable[[int], int]
    extract_lane_s: Callable[[int, int], int]
    extract_lane_u: Callable[[int, int], int]
    replace_lane: Callable[[int, int, int], int]
    eq: Binary
    ne: Binary
    lt_s: Binary
    lt_u: Binary
    gt_s: Binary
    gt_u: Binary
    le_s: Binary
    le_u: Binary
    ge_s: Binary
    ge_u: Binary
    abs: Unary
    neg: Unary
    all_true: Unary
    bitmask: Unary
    shl: Binary
    shr_s: Binary
    shr_u: Binary
    add: Binary
    sub: Binary
    mul: Binary
    add_sat_s: Binary
    add_sat_u: Binary
    sub_sat_s: Binary
    sub_sat_u: Binary
    min_s: Binary
    min_u: Binary
    max_s: Binary
    max_u: Binary
    avgr_u: Binary


def integer_lane_instructions(shape: Shape) -> IntegerLaneInstructions:
    """Build the integer instructions of ``shape`` from their scalar lane
    definitions (spec 4.3.2, applied lane-wise)."""
    low_s, high_s, high_u = shape.signed_min, shape.signed_max, shape.mask
    split = shape.split
    sign_bit_shift = shape.bits - 1

    def all_true(a: int) -> int:
        return 1 if all(split(a)) else 0

    def bitmask(a: int) -> int:
        result = 0
        for i, x in enumerate(split(a)):
            result |= (x >> sign_bit_shift) << i
        return result

    # Scalar minima and maxima return one of their operands unchanged, so the
    # joined lanes need no wrapping beyond the join's own.
    instructions = IntegerLaneInstructions(
        splat=splat(shape),
        extract_lane_s=extract_lane(shape, signed=True),
        extract_lane_u=extract_lane(shape),  # type: ignore[arg-type]
        replace_lane=replace_lane(shape),  # type: ignore[arg-type]
        eq=comparison(shape, _equal),
        ne=comparison(shape, _not_equal),
        lt_s=comparison(shape, _less, signed=True),
        lt_u=comparison(shape, _less),
        gt_s=comparison(shape, _greater, signed=True),
        gt_u=comparison(shape, _greater),
        le_s=comparison(shape, _less_or_equal, signed=True),
        le_u=comparison(shape, _less_or_equal),
        ge_s=comparison(shape, _greater_or_equal, signed=True),
        ge_u=comparison(shape, _greater_or_equal),
        abs=lanewise_unary(shape, abs, signed=True),
        neg=lanewise_unary(shape, lambda x: -x),
        all_true=all_true,
        bitmask=bitmask,
        shl=shift(shape, lambda x, k: x << k),
        shr_s=shift(shape, lambda x, k: x >> k, signed=True),
        shr_u=shift(shape, lambda x, k: x >> k),
        add=lanewise_binary(shape, lambda x, y: x + y),
        sub=lanewise_binary(shape, lambda x, y: x - y),
        mul=lanewise_binary(shape, lambda x, y: x * y),
        add_sat_s=lanewise_binary(shape, lambda x, y: saturate(x + y, low_s, high_s), signed=True),
        add_sat_u=lanewise_binary(shape, lambda x, y: saturate(x + y, 0, high_u)),
        sub_sat_s=lanewise_binary(shape, lambda x, y: saturate(x - y, low_s, high_s), signed=True),
        sub_sat_u=lanewise_binary(shape, lambda x, y: saturate(x - y, 0, high_u)),
        min_s=lanewise_binary(shape, min, signed=True),
        min_u=lanewise_binary(shape, min),
        max_s=lanewise_binary(shape, max, signed=True),
        max_u=lanewise_binary(shape, max),
        avgr_u=lanewise_binary(shape, lambda x, y: (x + y + 1) >> 1),
    )
    for name, function in zip(instructions._fields, instructions):
        function.__qualname__ = f"{shape.name}.{name}"
    return instructions


class FloatLaneInstructions(NamedTuple):
    """The instructions both float shapes have, under their names."""

    splat: Callable[[float], int]
    extract_lane: Callable[[int, int], float]
    replace_lane: Callable[[int, float, int], int]
    eq: Binary
    ne: Binary
    lt: Binary
    gt: Binary
    le: Binary
    ge: Binary
    abs: Unary
    neg: Unary
    sqrt: Unary
    ceil: Unary
    floor: Unary
    trunc: Unary
    nearest: Unary
    add: Binary
    sub: Binary
    mul: Binary
    div: Binary
    min: Binary
    max: Binary
    pmin: Binary
    pmax: Binary


def _pseudo_minimum(a: float, b: float) -> float:
    """``pmin``: ``b < a ? b : a``, with no NaN or signed-zero rules of its own."""
    return b if b < a else a


def _pseudo_maximum(a: float, b: float) -> float:
    """``pmax``: ``a < b ? b : a``."""
    return b if a < b else a


def float_lane_instructions(shape: Shape, scalar: object) -> FloatLaneInstructions:
    """Build the float instructions of ``shape`` from the scalar float
    instructions ``scalar`` of the lane type (``python_semantics.functions("f32")``)."""
    unary = {name: lanewise_unary(shape, getattr(scalar, name))
             for name in ("abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest")}
    binary = {name: lanewise_binary(shape, getattr(scalar, name))
              for name in ("add", "sub", "mul", "div", "min", "max")}
    compare = {name: comparison(shape, getattr(scalar, name)) for name in ("eq", "ne", "lt", "gt", "le", "ge")}
    instructions = FloatLaneInstructions(
        splat=splat(shape),  # type: ignore[arg-type]
        extract_lane=extract_lane(shape),  # type: ignore[arg-type]
        replace_lane=replace_lane(shape),  # type: ignore[arg-type]
        pmin=lanewise_binary(shape, _pseudo_minimum),
        pmax=lanewise_binary(shape, _pseudo_maximum),
        **unary, **binary, **compare,
    )
    for name, function in zip(instructions._fields, instructions):
        function.__qualname__ = f"{shape.name}.{name}"
    return instructions
