"""The ``i64x2`` instructions (spec 4.3.4), one function per instruction.

``i64x2.<name>`` is the function ``<name>`` here; the interpreter finds them by
the opcode table's names.  Operands come in stack order, vectors are ints
(lane 0 in the low bits) and a lane index comes last.  The lane-wise logic is
shared with the other shapes through ``lanes``; ``i64x2`` has only the signed
orderings.
"""

from __future__ import annotations

from interp.exec import lanes
from interp.exec.v128 import bitselect

_S = lanes.I64X2
_NARROW = lanes.I32X4
_ops = lanes.integer_lane_instructions(_S)

splat = _ops.splat
extract_lane = _ops.extract_lane_u
replace_lane = _ops.replace_lane

eq = _ops.eq
ne = _ops.ne
lt_s = _ops.lt_s
gt_s = _ops.gt_s
le_s = _ops.le_s
ge_s = _ops.ge_s

abs = _ops.abs  # noqa: A001 - instruction names shadow builtins here
neg = _ops.neg
all_true = _ops.all_true
bitmask = _ops.bitmask
extend_low_i32x4_s = lanes.extend(_NARROW, _S, signed=True, high=False)
extend_high_i32x4_s = lanes.extend(_NARROW, _S, signed=True, high=True)
extend_low_i32x4_u = lanes.extend(_NARROW, _S, signed=False, high=False)
extend_high_i32x4_u = lanes.extend(_NARROW, _S, signed=False, high=True)

shl = _ops.shl
shr_s = _ops.shr_s
shr_u = _ops.shr_u
add = _ops.add
sub = _ops.sub
mul = _ops.mul

extmul_low_i32x4_s = lanes.extended_multiply(_NARROW, _S, signed=True, high=False)
extmul_high_i32x4_s = lanes.extended_multiply(_NARROW, _S, signed=True, high=True)
extmul_low_i32x4_u = lanes.extended_multiply(_NARROW, _S, signed=False, high=False)
extmul_high_i32x4_u = lanes.extended_multiply(_NARROW, _S, signed=False, high=True)


relaxed_laneselect = bitselect  # relaxed SIMD: every bit selected, as the reference interpreter does
