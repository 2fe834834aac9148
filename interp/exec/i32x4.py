"""The ``i32x4`` instructions (spec 4.3.4), one function per instruction.

``i32x4.<name>`` is the function ``<name>`` here; the interpreter finds them by
the opcode table's names.  Operands come in stack order, vectors are ints
(lane 0 in the low bits) and a lane index comes last.  The lane-wise logic is
shared with the other shapes through ``lanes``; this module picks the shape
and adds ``dot_i16x8_s``.  The saturating truncations from float lanes are the
scalar ``i32.trunc_sat_*`` applied lane by lane.
"""

from __future__ import annotations

from interp.exec import lanes
from interp.exec.v128 import bitselect
from interp.exec.python_semantics import functions

_i32 = functions("i32")

_S = lanes.I32X4
_NARROW = lanes.I16X8
_ops = lanes.integer_lane_instructions(_S)

splat = _ops.splat
extract_lane = _ops.extract_lane_u
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
extend_low_i16x8_s = lanes.extend(_NARROW, _S, signed=True, high=False)
extend_high_i16x8_s = lanes.extend(_NARROW, _S, signed=True, high=True)
extend_low_i16x8_u = lanes.extend(_NARROW, _S, signed=False, high=False)
extend_high_i16x8_u = lanes.extend(_NARROW, _S, signed=False, high=True)

shl = _ops.shl
shr_s = _ops.shr_s
shr_u = _ops.shr_u
add = _ops.add
sub = _ops.sub
mul = _ops.mul
min_s = _ops.min_s
min_u = _ops.min_u
max_s = _ops.max_s
max_u = _ops.max_u

extmul_low_i16x8_s = lanes.extended_multiply(_NARROW, _S, signed=True, high=False)
extmul_high_i16x8_s = lanes.extended_multiply(_NARROW, _S, signed=True, high=True)
extmul_low_i16x8_u = lanes.extended_multiply(_NARROW, _S, signed=False, high=False)
extmul_high_i16x8_u = lanes.extended_multiply(_NARROW, _S, signed=False, high=True)
extadd_pairwise_i16x8_s = lanes.extended_pairwise_add(_NARROW, _S, signed=True)
extadd_pairwise_i16x8_u = lanes.extended_pairwise_add(_NARROW, _S, signed=False)

trunc_sat_f32x4_s = lanes.conversion(lanes.F32X4, _S, _i32.trunc_sat_f32_s)
trunc_sat_f32x4_u = lanes.conversion(lanes.F32X4, _S, _i32.trunc_sat_f32_u)
trunc_sat_f64x2_s_zero = lanes.conversion(lanes.F64X2, _S, _i32.trunc_sat_f64_s)
trunc_sat_f64x2_u_zero = lanes.conversion(lanes.F64X2, _S, _i32.trunc_sat_f64_u)

_split_signed = _NARROW.split_signed
_join = _S.join


def dot_i16x8_s(a: int, b: int) -> int:
    """Sums of the products of adjacent signed i16 lanes, wrapped to 32 bits
    (only -32768 * -32768 twice overflows)."""
    products = [x * y for x, y in zip(_split_signed(a), _split_signed(b))]
    return _join([x + y for x, y in zip(products[0::2], products[1::2])])


# Relaxed SIMD, with the reference interpreter's choices: the saturating
# truncations (NaN gives 0), every bit selected, and both dot product
# operands signed.
relaxed_trunc_f32x4_s = trunc_sat_f32x4_s
relaxed_trunc_f32x4_u = trunc_sat_f32x4_u
relaxed_trunc_f64x2_s_zero = trunc_sat_f64x2_s_zero
relaxed_trunc_f64x2_u_zero = trunc_sat_f64x2_u_zero
relaxed_laneselect = bitselect


def relaxed_dot_i8x16_i7x16_add_s(a: int, b: int, c: int) -> int:
    """Sums of the products of four adjacent signed i8 lanes, plus the
    corresponding i32 lane of ``c``, wrapped to 32 bits."""
    products = [x * y for x, y in zip(lanes.I8X16.split_signed(a), lanes.I8X16.split_signed(b))]
    sums = [sum(products[i:i + 4]) for i in range(0, 16, 4)]
    return _join([total + addend for total, addend in zip(sums, _S.split_signed(c))])
