"""Table instances (spec 4.2.7) and the bulk table operations on them."""

from __future__ import annotations

from interp.errors import Trap, TrapKind
from interp.syntax.types import I64, Limits, TableType

MAX_TABLE_SIZE = 0xFFFF_FFFF
MAX_TABLE64_SIZE = 0xFFFF_FFFF_FFFF_FFFF


class TableInstance:
    """A table: a list of references (function instances, host objects, or
    ``None`` for null).  ``limit`` is the engine's own cap on the number of
    elements; growing past it fails as the spec allows."""

    __slots__ = ("type", "elements", "limit")

    def __init__(self, type: TableType, init: object = None, limit: int = MAX_TABLE_SIZE) -> None:
        self.type = type
        self.limit = limit
        self.elements: list = [init] * type.limits.min

    @property
    def size(self) -> int:
        return len(self.elements)

    @property
    def current_type(self) -> TableType:
        return TableType(Limits(len(self.elements), self.type.limits.max), self.type.elem, self.type.address)

    def get(self, index: int) -> object:
        if index >= len(self.elements):
            raise Trap(TrapKind.TABLE_OUT_OF_BOUNDS)
        return self.elements[index]

    def set(self, index: int, value: object) -> None:
        if index >= len(self.elements):
            raise Trap(TrapKind.TABLE_OUT_OF_BOUNDS)
        self.elements[index] = value

    def grow(self, delta: int, init: object) -> int:
        """Grow by ``delta`` elements set to ``init``; the old size, or -1."""
        old = len(self.elements)
        new = old + delta
        maximum = self.type.limits.max
        bound = MAX_TABLE64_SIZE if self.type.address is I64 else MAX_TABLE_SIZE
        if new > bound or new > self.limit or (maximum is not None and new > maximum):
            return -1
        try:
            self.elements.extend([init] * delta)
        except MemoryError:
            return -1
        return old

    def fill(self, index: int, value: object, length: int) -> None:
        if index + length > len(self.elements):
            raise Trap(TrapKind.TABLE_OUT_OF_BOUNDS)
        self.elements[index:index + length] = [value] * length

    def copy_from(self, source: TableInstance, destination: int, start: int, length: int) -> None:
        """``table.copy``: overlapping ranges within one table behave like memmove."""
        if start + length > len(source.elements) or destination + length > len(self.elements):
            raise Trap(TrapKind.TABLE_OUT_OF_BOUNDS)
        self.elements[destination:destination + length] = source.elements[start:start + length]

    def init_from(self, segment: list, destination: int, start: int, length: int) -> None:
        """``table.init``: copy from an element segment (empty once dropped)."""
        if start + length > len(segment) or destination + length > len(self.elements):
            raise Trap(TrapKind.TABLE_OUT_OF_BOUNDS)
        self.elements[destination:destination + length] = segment[start:start + length]
