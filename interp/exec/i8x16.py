"""The ``i8x16`` instructions (spec 4.3.4), one function per instruction.

``i8x16.<name>`` is the function ``<name>`` here; the interpreter finds them by
the opcode table's names.  Operands come in stack order, vectors are ints
(lane 0 in the low bits) and a lane index comes last.  The lane-wise logic is
shared with the other shapes through ``lanes``; this module picks the shape
and adds what only ``i8x16`` has: shuffles, swizzle and popcnt.
"""

from __future__ import annotations

from interp.exec import lanes
from interp.exec.v128 import bitselect

_S = lanes.I8X16
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
popcnt = lanes.lanewise_unary(_S, int.bit_count)
all_true = _ops.all_true
bitmask = _ops.bitmask
narrow_i16x8_s = lanes.narrow(lanes.I16X8, _S, signed=True)
narrow_i16x8_u = lanes.narrow(lanes.I16X8, _S, signed=False)

shl = _ops.shl
shr_s = _ops.shr_s
shr_u = _ops.shr_u
add = _ops.add
add_sat_s = _ops.add_sat_s
add_sat_u = _ops.add_sat_u
sub = _ops.sub
sub_sat_s = _ops.sub_sat_s
sub_sat_u = _ops.sub_sat_u
min_s = _ops.min_s
min_u = _ops.min_u
max_s = _ops.max_s
max_u = _ops.max_u
avgr_u = _ops.avgr_u

_BYTES = lanes.V128_BYTES


def swizzle(a: int, indices: int) -> int:
    """Lane ``i`` is the lane of ``a`` that lane ``i`` of ``indices`` names,
    or 0 when that index is 16 or more."""
    source = a.to_bytes(_BYTES, "little")
    return int.from_bytes(bytes([source[i] if i < 16 else 0 for i in indices.to_bytes(_BYTES, "little")]),
                          "little")


def shuffle(a: int, b: int, indices: tuple[int, ...]) -> int:
    """Lane ``i`` is lane ``indices[i]`` of the 32 lanes of ``a`` then ``b``
    (validation keeps the indices below 32)."""
    source = a.to_bytes(_BYTES, "little") + b.to_bytes(_BYTES, "little")
    return int.from_bytes(bytes([source[i] for i in indices]), "little")


# Relaxed SIMD, with the reference interpreter's choices: an index of 16 or
# more selects 0 (x86's pshufb would look at bit 7 only); every bit selected.
relaxed_swizzle = swizzle
relaxed_laneselect = bitselect
