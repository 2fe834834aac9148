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

from interp.wasi.constants import Errno

if TYPE_CHECKING:
    from interp.runtime.memory import MemoryInstance

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
