"""Bounds-checked access to a plugin's linear memory, and allocation through
the plugin's own allocator.

Every guest pointer a host function touches goes through ``GuestMemory``: an
address outside memory raises ``GuestMemoryError``, which the host-function
wrapper turns into ``INVALID_MEMORY_ACCESS`` — a bad pointer is the guest's
mistake, reported to the guest, never a trap and never a host crash.

Results that do not fit the caller's stack (header values, buffers, pairs)
are handed over the ABI way: the host asks the guest for memory
(``proxy_on_memory_allocate``, or ``malloc`` in its absence, as the spec
says), copies the bytes there and writes the pointer and the size to the
guest's two out-pointers.  The allocator is called back *during* the host
call; the engine allows that re-entry.  Zero-length results get pointer 0
and no allocation, as in proxy-wasm-cpp-host.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from interp.runtime.memory import MemoryInstance

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

ALLOCATOR_EXPORTS = ("proxy_on_memory_allocate", "malloc")
"""Allocator exports in order of preference (spec: ``malloc`` only in the
absence of ``proxy_on_memory_allocate``)."""


class GuestMemoryError(Exception):
    """A guest pointer (or the allocator's answer) is unusable; becomes
    ``INVALID_MEMORY_ACCESS``.  Internal to host functions."""


class GuestMemory:
    """Memory 0 of a plugin instance (none: every access fails) and a way to
    allocate in it.  ``allocate`` is ``None`` when the module exports no
    allocator; handing out results then fails with INVALID_MEMORY_ACCESS."""

    __slots__ = ("memory", "allocator", "copied")

    def __init__(self, memory: MemoryInstance | None, allocator: Callable[[int], int] | None) -> None:
        self.memory = memory
        self.allocator = allocator
        self.copied = 0  # bytes read or written: the host work a host call is charged for

    @property
    def size(self) -> int:
        return len(self.memory.data) if self.memory is not None else 0

    def check(self, address: int, length: int) -> None:
        if address < 0 or length < 0 or address + length > self.size:
            raise GuestMemoryError(f"{length} bytes at {address:#x} are outside the guest's memory "
                                   f"({self.size} bytes)")

    def read(self, address: int, length: int) -> bytes:
        self.check(address, length)
        self.copied += length
        return bytes(self.memory.data[address:address + length])  # type: ignore[union-attr]

    def write(self, address: int, data: bytes) -> None:
        self.check(address, len(data))
        self.copied += len(data)
        self.memory.data[address:address + len(data)] = data  # type: ignore[union-attr]

    def read_u32(self, address: int) -> int:
        return _U32.unpack(self.read(address, 4))[0]

    def write_u32(self, address: int, value: int) -> None:
        self.write(address, _U32.pack(value & 0xFFFF_FFFF))

    def write_u64(self, address: int, value: int) -> None:
        self.write(address, _U64.pack(value & 0xFFFF_FFFF_FFFF_FFFF))

    def allocate(self, size: int) -> int:
        """A guest block of ``size`` bytes (size > 0), checked to lie in memory."""
        if self.allocator is None:
            raise GuestMemoryError("the plugin exports no allocator (proxy_on_memory_allocate or malloc)")
        address = self.allocator(size)
        if address == 0:
            raise GuestMemoryError(f"the plugin's allocator returned 0 for {size} bytes")
        self.check(address, size)
        return address

    def hand_over(self, data: bytes, address_out: int, size_out: int) -> int:
        """Copy ``data`` into freshly allocated guest memory and write its
        address and size to the two out-pointers (checked before allocating,
        so a bad pointer costs no allocation).  Returns the address (0 for
        empty data)."""
        self.check(address_out, 4)
        self.check(size_out, 4)
        address = self.allocate(len(data)) if data else 0
        if data:
            self.write(address, data)
        self.write_u32(address_out, address)
        self.write_u32(size_out, len(data))
        return address
