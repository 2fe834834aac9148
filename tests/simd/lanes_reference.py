"""An independent, deliberately plain model of v128 lanes for the SIMD tests:
lanes taken apart and put together with shifts and masks, one at a time, so
that the engine's ``interp.exec.lanes`` (bytes and ``struct``) is checked
against something that shares none of its code.  Also the hypothesis
strategies for vectors whose lanes favour the edge values."""

from __future__ import annotations

from hypothesis import strategies as st

from interp.exec import f32x4, f64x2, i8x16, i16x8, i32x4, i64x2

INTEGER_MODULES = {8: i8x16, 16: i16x8, 32: i32x4, 64: i64x2}
FLOAT_MODULES = {32: f32x4, 64: f64x2}


def lanes_of(vector: int, bits: int, signed: bool = False) -> list[int]:
    """The lanes of ``vector``, lane 0 first."""
    mask = (1 << bits) - 1
    lanes = [(vector >> (position * bits)) & mask for position in range(128 // bits)]
    if signed:
        lanes = [lane - (1 << bits) if lane >> (bits - 1) else lane for lane in lanes]
    return lanes


def vector_of(lanes: list[int], bits: int) -> int:
    """The vector with these lanes (wrapped to the lane width), lane 0 first."""
    mask = (1 << bits) - 1
    value = 0
    for position, lane in enumerate(lanes):
        value |= (lane & mask) << (position * bits)
    return value


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def signed_range(bits: int) -> tuple[int, int]:
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _mixed_vector(bits: int, edges: list[int]) -> st.SearchStrategy[int]:
    """Vectors whose lanes are random or edge values, each lane choosing by
    a bit of a random selector (three draws per vector, whatever the lane
    count, which keeps the tests fast)."""
    count = 128 // bits

    def build(random_bits: int, selector: int, edge_choice: int) -> int:
        random_lanes = lanes_of(random_bits, bits)
        lanes = [edges[(edge_choice >> (8 * i)) % len(edges)] if selector >> i & 1 else random_lanes[i]
                 for i in range(count)]
        return vector_of(lanes, bits)

    return st.builds(build, st.integers(0, (1 << 128) - 1), st.integers(0, (1 << count) - 1),
                     st.integers(0, (1 << (8 * count)) - 1))


def integer_vector(bits: int) -> st.SearchStrategy[int]:
    """Vectors whose lanes are often edge values (0, 1, the signed extremes, all ones)."""
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)
    return _mixed_vector(bits, [0, 1, 2, sign - 1, sign, sign + 1, mask - 1, mask])


F32_EDGES = [
    0x0000_0000, 0x8000_0000,                # zeros
    0x0000_0001, 0x8000_0001, 0x007F_FFFF,   # subnormals
    0x3F80_0000, 0xBF80_0000, 0x3F00_0000,   # 1, -1, 0.5
    0x3FC0_0000, 0x4020_0000,                # 1.5, 2.5 (ties of nearest)
    0x4EFF_FFFF, 0x4F00_0000, 0xCF00_0000,   # near and at 2**31
    0x4F80_0000, 0x7F7F_FFFF, 0xFF7F_FFFF,   # 2**32, the largest finite
    0x7F80_0000, 0xFF80_0000,                # infinities
    0x7FC0_0000, 0xFFC0_0000, 0x7FA0_0001,   # canonical NaNs, a signalling NaN
    0x7FC1_2345, 0xFF81_0000,                # NaNs with payloads
]
F64_EDGES = [
    0x0000_0000_0000_0000, 0x8000_0000_0000_0000,
    0x0000_0000_0000_0001, 0x000F_FFFF_FFFF_FFFF,
    0x3FF0_0000_0000_0000, 0xBFF0_0000_0000_0000, 0x3FE0_0000_0000_0000,
    0x3FF8_0000_0000_0000, 0x4004_0000_0000_0000,
    0x41DF_FFFF_FFC0_0000, 0x41E0_0000_0000_0000, 0xC1E0_0000_0000_0000,
    0x41F0_0000_0000_0000, 0x7FEF_FFFF_FFFF_FFFF,
    0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000,
    0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000, 0x7FF4_0000_0000_0001,
    0x7FF8_0000_1234_5678,
]
FLOAT_EDGES = {32: F32_EDGES, 64: F64_EDGES}


def float_vector(bits: int) -> st.SearchStrategy[int]:
    """A vector of float lanes (as bits): edge values and random patterns,
    which include NaNs of every payload."""
    return _mixed_vector(bits, FLOAT_EDGES[bits])


def is_nan_bits(bits: int, width: int) -> bool:
    exponent_bits = 8 if width == 32 else 11
    mantissa_bits = width - 1 - exponent_bits
    exponent = (bits >> mantissa_bits) & ((1 << exponent_bits) - 1)
    return exponent == (1 << exponent_bits) - 1 and bits & ((1 << mantissa_bits) - 1) != 0


def quiet_bit(width: int) -> int:
    return 1 << (22 if width == 32 else 51)


def canonical_nan_magnitude(width: int) -> int:
    return 0x7FC0_0000 if width == 32 else 0x7FF8_0000_0000_0000
