"""The ``i16x8`` instructions (spec 4.3.4), one function per instruction.

``i16x8.<name>`` is the function ``<name>`` here; the interpreter finds them by
the opcode table's names.  Operands come in stack order, vectors are ints
(lane 0 in the low bits) and a lane index comes last.  The lane-wise logic is
shared with the other shapes through ``lanes``; this module picks the shape
and adds ``q15mulr_sat_s``.
"""

from __future__ import annotations

from interp.exec import lanes
from interp.exec.v128 import bitselect

_S = lanes.I16X8
_NARROW = lanes.I8X16
_ops = lanes.integer_lane_instructions(_S)

splat = _ops.splat
extract_lane_s = _ops.extract_lane_s
extract_lane_u = _ops.extract_lane_u
replace_lane = _ops.replace_lane

eq = _ops.eq
ne = _ops.ne
lt_s = _ops.lt_s
lt_u = _ops.lt_u
gt_s = _ops.gt_s
gt_u = _ops.gt_u
le_s = _ops.le_s
le_u = _ops.le_u
ge_s = _ops.ge_s
ge_u = _ops.ge_u

abs = _ops.abs  # noqa: A001 - instruction names shadow builtins here
neg = _ops.neg
all_true = _ops.all_true
bitmask = _ops.bitmask
narrow_i32x4_s = lanes.narrow(lanes.I32X4, _S, signed=True)
narrow_i32x4_u = lanes.narrow(lanes.I32X4, _S, signed=False)
extend_low_i8x16_s = lanes.extend(_NARROW, _S, signed=True, high=False)
extend_high_i8x16_s = lanes.extend(_NARROW, _S, signed=True, high=True)
extend_low_i8x16_u = lanes.extend(_NARROW, _S, signed=False, high=False)
extend_high_i8x16_u = lanes.extend(_NARROW, _S, signed=False, high=True)

shl = _ops.shl
shr_s = _ops.shr_s
shr_u = _ops.shr_u
add = _ops.add
add_sat_s = _ops.add_sat_s
add_sat_u = _ops.add_sat_u
sub = _ops.sub
sub_sat_s = _ops.sub_sat_s
sub_sat_u = _ops.sub_sat_u
mul = _ops.mul
min_s = _ops.min_s
min_u = _ops.min_u
max_s = _ops.max_s
max_u = _ops.max_u
avgr_u = _ops.avgr_u

extmul_low_i8x16_s = lanes.extended_multiply(_NARROW, _S, signed=True, high=False)
extmul_high_i8x16_s = lanes.extended_multiply(_NARROW, _S, signed=True, high=True)
extmul_low_i8x16_u = lanes.extended_multiply(_NARROW, _S, signed=False, high=False)
extmul_high_i8x16_u = lanes.extended_multiply(_NARROW, _S, signed=False, high=True)
extadd_pairwise_i8x16_s = lanes.extended_pairwise_add(_NARROW, _S, signed=True)
extadd_pairwise_i8x16_u = lanes.extended_pairwise_add(_NARROW, _S, signed=False)

_saturate = lanes.saturate


def _q15_product(x: int, y: int) -> int:
    """The Q15 fixed-point product of two signed lanes, rounded to nearest
    (ties up) and saturated; only -1.0 * -1.0 leaves the range."""
    return _saturate((x * y + 0x4000) >> 15, -0x8000, 0x7FFF)


q15mulr_sat_s = lanes.lanewise_binary(_S, _q15_product, signed=True)


# Relaxed SIMD, with the reference interpreter's choices: the saturating
# rounding Q15 product, every bit selected, and both dot product operands
# signed (so -128 * -128 * 2 wraps to -32768).
relaxed_q15mulr_s = q15mulr_sat_s
relaxed_laneselect = bitselect


def relaxed_dot_i8x16_i7x16_s(a: int, b: int) -> int:
    """Sums of the products of adjacent signed i8 lanes, wrapped to 16 bits."""
    products = [x * y for x, y in zip(_NARROW.split_signed(a), _NARROW.split_signed(b))]
    return _S.join([x + y for x, y in zip(products[0::2], products[1::2])])
