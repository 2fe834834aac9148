"""The ``f32x4`` instructions (spec 4.3.4), one function per instruction.

``f32x4.<name>`` is the function ``<name>`` here; the interpreter finds them by
the opcode table's names.  Every lane operation is the scalar ``f32``
instruction of the same name (its table semantics: f32 rounding, NaN rules,
min/max, nearest), applied lane by lane through ``lanes``; comparisons give
all-ones lanes.
"""

from __future__ import annotations

from interp.exec import lanes
from interp.exec.numerics import BINARY32, fused_multiply_add
from interp.exec.python_semantics import functions

_f32 = functions("f32")

_S = lanes.F32X4
_ops = lanes.float_lane_instructions(_S, _f32)

splat = _ops.splat
extract_lane = _ops.extract_lane
replace_lane = _ops.replace_lane

eq = _ops.eq
ne = _ops.ne
lt = _ops.lt
gt = _ops.gt
le = _ops.le
ge = _ops.ge

abs = _ops.abs  # noqa: A001 - instruction names shadow builtins here
neg = _ops.neg
sqrt = _ops.sqrt
ceil = _ops.ceil
floor = _ops.floor
trunc = _ops.trunc
nearest = _ops.nearest
add = _ops.add
sub = _ops.sub
mul = _ops.mul
div = _ops.div
min = _ops.min  # noqa: A001
max = _ops.max  # noqa: A001
pmin = _ops.pmin
pmax = _ops.pmax

convert_i32x4_s = lanes.conversion(lanes.I32X4, _S, _f32.convert_i32_s)
convert_i32x4_u = lanes.conversion(lanes.I32X4, _S, _f32.convert_i32_u)
demote_f64x2_zero = lanes.conversion(lanes.F64X2, _S, _f32.demote_f64)


# Relaxed SIMD, with the reference interpreter's choice among the results the
# spec allows: the multiply-adds fused (one rounding, as with FMA hardware),
# min and max those above (NaN-propagating, -0 below +0).
relaxed_madd = lanes.lanewise_ternary(_S, lambda a, b, c: fused_multiply_add(a, b, c, BINARY32))
relaxed_nmadd = lanes.lanewise_ternary(_S, lambda a, b, c: fused_multiply_add(-a, b, c, BINARY32))
relaxed_min = min
relaxed_max = max
