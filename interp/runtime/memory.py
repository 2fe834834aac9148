"""Memory instances (spec 4.2.8) and the bulk memory operations on them."""

from __future__ import annotations

from interp.errors import ResourceLimitError, Trap, TrapKind
from interp.syntax.types import MAX_PAGES, PAGE_SIZE, Limits, MemoryType


class MemoryInstance:
    """A linear memory: a ``bytearray`` whose length is a multiple of the
    memory's page size (64 KiB, or 1 byte with custom-page-sizes).

    The bytearray object stays the same for the memory's whole life (growing
    extends it in place), so compiled code may hold on to it.  ``limit_pages``
    is the engine's own cap, in 64 KiB pages whatever the memory's page size:
    growing past it fails as the spec allows, and ``memory.grow`` returns -1.
    """

    __slots__ = ("type", "data", "page_size", "limit_bytes")

    def __init__(self, type: MemoryType, limit_pages: int = MAX_PAGES) -> None:
        self.type = type
        self.page_size = type.page_size
        self.limit_bytes = limit_pages * PAGE_SIZE
        try:
            self.data = bytearray(type.limits.min * type.page_size)
        except (MemoryError, OverflowError):
            # The host cannot give what the module asks for (an address-space cap, a small machine).
            raise ResourceLimitError(f"memory of {type.limits.min} pages cannot be allocated on this host") from None

    @property
    def pages(self) -> int:
        return len(self.data) // self.page_size

    @property
    def current_type(self) -> MemoryType:
        """The type as it is now (its minimum is the current size), which is
        what import matching compares against."""
        return MemoryType(Limits(self.pages, self.type.limits.max), self.type.address, self.page_size)

    def grow(self, delta: int) -> int:
        """Grow by ``delta`` pages; the old size in pages, or -1 on failure."""
        old = self.pages
        new = old + delta
        maximum = self.type.limits.max
        if new * self.page_size > self.limit_bytes or new > self.type.max_pages \
                or (maximum is not None and new > maximum):
            return -1
        try:
            self.data.extend(bytes(delta * self.page_size))
        except MemoryError:
            return -1
        return old

    def read(self, address: int, length: int) -> bytes:
        if address < 0 or length < 0 or address + length > len(self.data):
            raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
        return bytes(self.data[address:address + length])

    def write(self, address: int, data: bytes) -> None:
        if address < 0 or address + len(data) > len(self.data):
            raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
        self.data[address:address + len(data)] = data

    def fill(self, address: int, value: int, length: int) -> None:
        if address + length > len(self.data):
            raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
        self.data[address:address + length] = bytes([value & 0xFF]) * length

    def copy_from(self, memory: MemoryInstance, destination: int, source: int, length: int) -> None:
        """``memory.copy``: ``length`` bytes of ``memory`` (this one or
        another) from ``source`` to ``destination`` here; overlapping ranges
        copy as if through a buffer."""
        if source + length > len(memory.data) or destination + length > len(self.data):
            raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
        self.data[destination:destination + length] = memory.data[source:source + length]

    def init_from(self, segment: bytes, destination: int, source: int, length: int) -> None:
        """``memory.init``: copy ``length`` bytes of a data segment (an empty
        ``bytes`` once dropped) to ``destination``."""
        if source + length > len(segment) or destination + length > len(self.data):
            raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
        self.data[destination:destination + length] = segment[source:source + length]
