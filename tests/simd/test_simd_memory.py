"""The vector loads and stores (``interp.exec.simd_memory``): what they read
and write, and their bounds: an access that reaches past the end of memory by
a single byte traps, and a trapping store writes nothing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from interp.errors import Trap
from interp.exec import simd_memory
from interp.syntax.opcodes import OPS, PREFIX_SIMD, Imm
from tests.simd.lanes_reference import lanes_of, vector_of

FAST = settings(max_examples=40, deadline=None)
SIZE = 64
MEMORY_OPS = [op for op in OPS if op.prefix == PREFIX_SIMD and op.imm in (Imm.MEMARG, Imm.MEMARG_LANE)]


def memory_with(pattern: bytes = b"") -> bytearray:
    memory = bytearray(range(SIZE))
    memory[:len(pattern)] = pattern
    return memory


def call(name: str, memory: bytearray, address: int, vector: int = 0, lane: int = 0) -> object:
    op = next(op for op in MEMORY_OPS if op.name == name)
    function = getattr(simd_memory, name.partition(".")[2])
    args: list = [memory, address]
    if len(op.params) == 2:
        args.append(vector)
    if op.imm is Imm.MEMARG_LANE:
        args.append(lane)
    return function(*args)


@pytest.mark.parametrize("op", MEMORY_OPS, ids=[op.name for op in MEMORY_OPS])
def test_bounds(op) -> None:  # type: ignore[no-untyped-def]
    """The last address where the access fits works; one more traps, and so
    does an address beyond 32 bits (base plus offset is not wrapped)."""
    last = SIZE - op.width
    memory = memory_with()
    call(op.name, memory, last)
    before = bytes(memory)
    for address in (last + 1, SIZE, 2**32 + 5):
        with pytest.raises(Trap, match="out of bounds memory access"):
            call(op.name, memory, address, vector=(1 << 128) - 1)
        assert memory == before


@FAST
@given(vector=st.integers(0, 2**128 - 1), address=st.integers(0, SIZE - 16))
def test_store_then_load(vector: int, address: int) -> None:
    memory = memory_with()
    simd_memory.store(memory, address, vector)
    assert memory[address:address + 16] == vector.to_bytes(16, "little")
    assert simd_memory.load(memory, address) == vector


@FAST
@given(data=st.binary(min_size=8, max_size=8))
def test_extending_loads(data: bytes) -> None:
    memory = memory_with(data)
    value = int.from_bytes(data, "little")
    for bits in (8, 16, 32):
        for signed, suffix in ((True, "s"), (False, "u")):
            count = 64 // bits
            name = f"v128.load{bits}x{count}_{suffix}"
            expected = vector_of(lanes_of(value, bits, signed)[:count], 2 * bits)
            assert call(name, memory, 0) == expected, name


@FAST
@given(data=st.binary(min_size=8, max_size=8))
def test_splat_and_zero_loads(data: bytes) -> None:
    memory = memory_with(data)
    for bits in (8, 16, 32, 64):
        lane = int.from_bytes(data[:bits // 8], "little")
        assert call(f"v128.load{bits}_splat", memory, 0) == vector_of([lane] * (128 // bits), bits)
    assert call("v128.load32_zero", memory, 0) == int.from_bytes(data[:4], "little")
    assert call("v128.load64_zero", memory, 0) == int.from_bytes(data, "little")


@FAST
@given(vector=st.integers(0, 2**128 - 1), lane=st.integers(0, 15), address=st.integers(0, SIZE - 8))
def test_lane_loads_and_stores(vector: int, lane: int, address: int) -> None:
    for bits in (8, 16, 32, 64):
        index = lane % (128 // bits)
        width = bits // 8
        memory = memory_with()
        loaded = call(f"v128.load{bits}_lane", memory, address, vector, index)
        expected = lanes_of(vector, bits)
        expected[index] = int.from_bytes(memory[address:address + width], "little")
        assert loaded == vector_of(expected, bits)
        before = bytes(memory)
        assert call(f"v128.store{bits}_lane", memory, address, vector, index) is None
        assert memory[address:address + width] == lanes_of(vector, bits)[index].to_bytes(width, "little")
        assert memory[:address] == before[:address] and memory[address + width:] == before[address + width:]
