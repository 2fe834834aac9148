"""``GuestMemory``: bounds checks and handing results over through the
guest's allocator."""

from __future__ import annotations

import pytest

from abi.hostcalls.guest_memory import GuestMemory, GuestMemoryError
from interp.runtime.memory import MemoryInstance
from interp.syntax.types import Limits, MemoryType


def memory_with(allocations: list[int], answer: int | None = None) -> GuestMemory:
    memory = MemoryInstance(MemoryType(Limits(1)))
    next_free = [0x100]

    def allocate(size: int) -> int:
        allocations.append(size)
        if answer is not None:
            return answer
        address = next_free[0]
        next_free[0] += size
        return address

    return GuestMemory(memory, allocate)


@pytest.mark.parametrize(("address", "length"), [(-1, 1), (0, -1), (0xFFFF, 2), (0x10001, 0), (0xFFFFFFFF, 1)])
def test_accesses_outside_memory_fail(address: int, length: int) -> None:
    with pytest.raises(GuestMemoryError):
        memory_with([]).check(address, length)


def test_the_last_byte_is_inside() -> None:
    memory = memory_with([])
    memory.write(0xFFFF, b"x")
    assert memory.read(0xFFFF, 1) == b"x"
    memory.check(0x10000, 0)


def test_hand_over_allocates_copies_and_writes_pointer_and_size() -> None:
    allocations: list[int] = []
    memory = memory_with(allocations)
    assert memory.hand_over(b"hello", 0x10, 0x14) == 0x100
    assert allocations == [5]
    assert (memory.read_u32(0x10), memory.read_u32(0x14)) == (0x100, 5)
    assert memory.read(0x100, 5) == b"hello"


def test_nothing_is_allocated_for_empty_data_or_bad_out_pointers() -> None:
    allocations: list[int] = []
    memory = memory_with(allocations)
    memory.write_u32(0x10, 7)
    assert memory.hand_over(b"", 0x10, 0x14) == 0
    assert (memory.read_u32(0x10), memory.read_u32(0x14)) == (0, 0)
    with pytest.raises(GuestMemoryError):
        memory.hand_over(b"data", 0x10, 0xFFFE)
    assert allocations == []


@pytest.mark.parametrize("answer", [0, 0xFFFE])
def test_unusable_allocator_answers(answer: int) -> None:
    with pytest.raises(GuestMemoryError):
        memory_with([], answer).hand_over(b"data", 0x10, 0x14)


def test_no_memory_and_no_allocator() -> None:
    memory = GuestMemory(None, None)
    with pytest.raises(GuestMemoryError):
        memory.read(0, 1)
    with pytest.raises(GuestMemoryError, match="exports no allocator"):
        GuestMemory(MemoryInstance(MemoryType(Limits(1))), None).allocate(4)
