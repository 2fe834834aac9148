"""How WebAssembly values are represented in Python (spec section 4.2.1).

Values are plain Python objects, never wrapped:

* ``i32`` / ``i64``: ``int`` in canonical unsigned form, ``0 <= v < 2**N``.
* ``f64``: ``float``.  A C double carries every f64 bit pattern, NaN payloads
  and signalling NaNs included, as long as it is only moved, negated or
  compared, which is all CPython does to a float it does not compute with.
* ``f32``: ``float`` holding a value that is exactly representable in single
  precision.  A NaN's 23-bit payload sits in the top of the double's payload
  (``payload << 29``) and its quiet bit in the double's quiet bit; this mapping
  is done by hand because converting through C ``float`` quietens signalling
  NaNs on common hardware, which would break bit-exact loads and stores.
* ``v128``: ``int``, ``0 <= v < 2**128``, lane 0 in the low bits.
* references: ``None`` for null; a function instance (``func``); any host
  object (``extern``); an exception instance (``exn``, interp/runtime/tag.py);
  a ``GcStruct``, ``GcArray``, ``I31`` or ``HostRef`` (the ``any`` hierarchy,
  interp/runtime/references.py).
* packed fields of structs and arrays (``i8``, ``i16``): ``int``, their bits unsigned.
"""

from __future__ import annotations

import math
import struct

from interp.syntax.types import PackedType, ValType

MASK32 = 0xFFFF_FFFF
MASK64 = 0xFFFF_FFFF_FFFF_FFFF

_PACK_D = struct.Struct("<d").pack
_UNPACK_D = struct.Struct("<d").unpack
_PACK_Q = struct.Struct("<Q").pack
_UNPACK_Q = struct.Struct("<Q").unpack
_PACK_F = struct.Struct("<f").pack
_UNPACK_F = struct.Struct("<f").unpack
_PACK_I = struct.Struct("<I").pack
_UNPACK_I = struct.Struct("<I").unpack

F32_EXP_MASK = 0x7F80_0000
F32_FRAC_MASK = 0x007F_FFFF
F64_EXP_MASK = 0x7FF0_0000_0000_0000
F64_FRAC_MASK = 0x000F_FFFF_FFFF_FFFF


def signed32(v: int) -> int:
    return v - 0x1_0000_0000 if v & 0x8000_0000 else v


def signed64(v: int) -> int:
    return v - 0x1_0000_0000_0000_0000 if v & 0x8000_0000_0000_0000 else v


def f64_from_bits(bits: int) -> float:
    return _UNPACK_D(_PACK_Q(bits))[0]


def f64_to_bits(x: float) -> int:
    return _UNPACK_Q(_PACK_D(x))[0]


def f32_from_bits(bits: int) -> float:
    if bits & F32_EXP_MASK == F32_EXP_MASK and bits & F32_FRAC_MASK:
        sign = (bits & 0x8000_0000) << 32
        return f64_from_bits(sign | F64_EXP_MASK | (bits & F32_FRAC_MASK) << 29)
    return _UNPACK_F(_PACK_I(bits))[0]


def f32_to_bits(x: float) -> int:
    """The f32 bit pattern of ``x``, which must already be an f32 value
    (exactly representable, or a NaN in the mapping described above)."""
    if x != x:
        bits = f64_to_bits(x)
        payload = (bits >> 29) & F32_FRAC_MASK or 0x0040_0000
        return (bits >> 32) & 0x8000_0000 | F32_EXP_MASK | payload
    return _UNPACK_I(_PACK_F(x))[0]


def f32_round(x: float) -> float:
    """Round a double to the nearest f32 value (ties to even), overflowing to
    infinity; NaNs map to the f32 NaN with the same sign and top payload bits."""
    if x != x:
        return f32_from_bits(f32_to_bits(x))
    try:
        return _UNPACK_F(_PACK_F(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def default_value(valtype: ValType | PackedType) -> object:
    """The zero value a local, a new table slot or a new field of this type
    starts with (null for every reference type)."""
    return _DEFAULTS.get(valtype)


_DEFAULTS: dict[ValType | PackedType, object] = {
    ValType.I32: 0,
    ValType.I64: 0,
    ValType.F32: 0.0,
    ValType.F64: 0.0,
    ValType.V128: 0,
    PackedType.I8: 0,
    PackedType.I16: 0,
}

