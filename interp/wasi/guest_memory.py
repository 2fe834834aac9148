"""Bounds-checked access to a guest's linear memory for WASI host functions.

A WASI function given a bad pointer must answer ``errno`` FAULT, never trap
and never raise into the host; so every access goes through ``GuestMemory``,
which raises ``WasiErrorReturn(FAULT)`` for anything outside the memory, and
the dispatcher turns that into the function's result.  Pointers need not be
aligned: wasi-libc always aligns them, and other hosts (wazero, WAMR) do not
check either.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from interp.wasi.constants import IOVEC_SIZE, Errno

if TYPE_CHECKING:
    from interp.runtime.memory import MemoryInstance

IOV_MAX = 1024
"""Most iovecs one read or write takes (POSIX's IOV_MAX; more is INVAL)."""

MAX_IO_BYTES = 0x7FFF_FFFF
"""Most bytes one read or write moves (a 32-bit ssize_t; more is INVAL), so
a guest cannot make the host build an absurdly large string."""

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class WasiErrorReturn(Exception):
    """Stops a WASI function and makes it return ``errno``.  Internal to the
    host functions: the guest sees the number, the host never sees the
    exception."""

    def __init__(self, errno: Errno) -> None:
        super().__init__(errno.name)
        self.errno = errno


class GuestMemory:
    """Memory 0 of the calling instance, or an empty memory when the module
    has none (then every access is a FAULT, as any pointer is out of bounds)."""

    __slots__ = ("data",)

    def __init__(self, memory: MemoryInstance | None) -> None:
        self.data = memory.data if memory is not None else bytearray()

    def check(self, address: int, length: int) -> None:
        """FAULT unless ``length`` bytes at ``address`` are all in memory."""
        if address + length > len(self.data):
            raise WasiErrorReturn(Errno.FAULT)

    def read(self, address: int, length: int) -> bytes:
        self.check(address, length)
        return bytes(self.data[address:address + length])

    def write(self, address: int, data: bytes) -> None:
        self.check(address, len(data))
        self.data[address:address + len(data)] = data

    def u8(self, address: int) -> int:
        self.check(address, 1)
        return self.data[address]

    def u16(self, address: int) -> int:
        self.check(address, 2)
        return _U16.unpack_from(self.data, address)[0]

    def u32(self, address: int) -> int:
        self.check(address, 4)
        return _U32.unpack_from(self.data, address)[0]

    def u64(self, address: int) -> int:
        self.check(address, 8)
        return _U64.unpack_from(self.data, address)[0]

    def write_u32(self, address: int, value: int) -> None:
        self.check(address, 4)
        _U32.pack_into(self.data, address, value)

    def write_u64(self, address: int, value: int) -> None:
        self.check(address, 8)
        _U64.pack_into(self.data, address, value)

    def iovecs(self, address: int, count: int) -> list[tuple[int, int]]:
        """The (address, length) buffers of an iovec array, each checked."""
        if count > IOV_MAX:
            raise WasiErrorReturn(Errno.INVAL)
        self.check(address, count * IOVEC_SIZE)
        buffers = []
        total = 0
        for index in range(count):
            entry = address + index * IOVEC_SIZE
            buffer, length = self.u32(entry), self.u32(entry + 4)
            self.check(buffer, length)
            total += length
            if total > MAX_IO_BYTES:
                raise WasiErrorReturn(Errno.INVAL)
            buffers.append((buffer, length))
        return buffers

    def gather(self, buffers: list[tuple[int, int]]) -> bytes:
        """The bytes of ``buffers``, one after another (what is written)."""
        return b"".join(self.read(address, length) for address, length in buffers)

    def scatter(self, buffers: list[tuple[int, int]], data: bytes) -> None:
        """Spread ``data`` over ``buffers`` in order (what was read)."""
        position = 0
        for address, length in buffers:
            if position >= len(data):
                break
            chunk = data[position:position + length]
            self.write(address, chunk)
            position += len(chunk)
