"""The ``i32`` numeric instructions (spec 4.3.2), one function per instruction.

``i32.<name>`` is the function ``<name>`` here (``and_``/``or_`` for Python
keywords); the interpreter finds them by the opcode table's names.  Operands
come in stack order, values are canonical unsigned ints, comparisons return
0 or 1, and traps raise ``interp.errors.Trap``.  The logic is shared with
``i64`` through ``int_ops``; this module only picks the width.
"""

from __future__ import annotations

from interp.exec import int_ops
from interp.syntax.values import MASK32, f32_to_bits

_ops = int_ops.integer_instructions(32)

eqz = int_ops.eqz
eq = int_ops.eq
ne = int_ops.ne
lt_s = _ops.lt_s
lt_u = int_ops.lt
gt_s = _ops.gt_s
gt_u = int_ops.gt
le_s = _ops.le_s
le_u = int_ops.le
ge_s = _ops.ge_s
ge_u = int_ops.ge

clz = _ops.clz
ctz = _ops.ctz
popcnt = _ops.popcnt
add = _ops.add
sub = _ops.sub
mul = _ops.mul
div_s = _ops.div_s
div_u = _ops.div_u
rem_s = _ops.rem_s
rem_u = _ops.rem_u
and_ = _ops.and_
or_ = _ops.or_
xor = _ops.xor
shl = _ops.shl
shr_s = _ops.shr_s
shr_u = _ops.shr_u
rotl = _ops.rotl
rotr = _ops.rotr

extend8_s = int_ops.sign_extension(8, 32)
extend16_s = int_ops.sign_extension(16, 32)


def wrap_i64(a: int) -> int:
    """Keep the low 32 bits of an i64."""
    return a & MASK32


# The float's width does not matter to a truncation (see int_ops), so the
# f32 and f64 forms are the same function.
trunc_f32_s = trunc_f64_s = int_ops.truncation(32, signed=True)
trunc_f32_u = trunc_f64_u = int_ops.truncation(32, signed=False)
trunc_sat_f32_s = trunc_sat_f64_s = int_ops.saturating_truncation(32, signed=True)
trunc_sat_f32_u = trunc_sat_f64_u = int_ops.saturating_truncation(32, signed=False)

reinterpret_f32 = f32_to_bits
