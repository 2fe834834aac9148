"""Types of the WebAssembly abstract syntax (spec section 2.3)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ValType(enum.Enum):
    """A value type.  The enum value is its binary encoding."""

    I32 = 0x7F
    I64 = 0x7E
    F32 = 0x7D
    F64 = 0x7C
    V128 = 0x7B
    FUNCREF = 0x70
    EXTERNREF = 0x6F
    EXNREF = 0x69

    @property
    def text(self) -> str:
        return _VALTYPE_TEXT[self]

    @property
    def is_ref(self) -> bool:
        return self in _REF_TYPES

    @property
    def is_num(self) -> bool:
        return self in _NUM_TYPES

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__

    @classmethod
    def from_text(cls, text: str) -> ValType | None:
        return _VALTYPE_BY_TEXT.get(text)


_VALTYPE_TEXT = {
    ValType.I32: "i32",
    ValType.I64: "i64",
    ValType.F32: "f32",
    ValType.F64: "f64",
    ValType.V128: "v128",
    ValType.FUNCREF: "funcref",
    ValType.EXTERNREF: "externref",
    ValType.EXNREF: "exnref",
}
_VALTYPE_BY_TEXT = {text: vt for vt, text in _VALTYPE_TEXT.items()}
_NUM_TYPES = frozenset({ValType.I32, ValType.I64, ValType.F32, ValType.F64})
_REF_TYPES = frozenset({ValType.FUNCREF, ValType.EXTERNREF, ValType.EXNREF})

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
FUNCREF, EXTERNREF, EXNREF = ValType.FUNCREF, ValType.EXTERNREF, ValType.EXNREF


@dataclass(frozen=True, slots=True)
class FuncType:
    params: tuple[ValType, ...]
    results: tuple[ValType, ...]

    def __str__(self) -> str:
        params = " ".join(t.text for t in self.params)
        results = " ".join(t.text for t in self.results)
        return f"[{params}] -> [{results}]"


PAGE_SIZE = 65536
"""The page size of a memory that declares none (the custom-page-sizes
proposal allows 1 besides)."""
MAX_PAGES = 65536  # 4 GiB: the most a 32-bit memory of 64 KiB pages can address
PAGE_SIZES = (1, PAGE_SIZE)
"""The page sizes a memory may declare (custom-page-sizes)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """``min`` and optional ``max``, in pages for memories and elements for
    tables; up to 2**64 - 1 for a 64-bit memory or table."""

    min: int
    max: int | None = None


@dataclass(frozen=True, slots=True)
class TableType:
    """A table; ``address`` is the type of its indices: ``I64`` for a 64-bit
    table (table64), else ``I32``."""

    limits: Limits
    elem: ValType  # FUNCREF or EXTERNREF
    address: ValType = ValType.I32


@dataclass(frozen=True, slots=True)
class MemoryType:
    """A memory; ``address`` is the type of its addresses (``I64`` for a
    64-bit memory, memory64), ``page_size`` its page size in bytes
    (custom-page-sizes: 1 or 65536)."""

    limits: Limits
    address: ValType = ValType.I32
    page_size: int = PAGE_SIZE

    @property
    def max_pages(self) -> int:
        """The bound validation puts on its limits: as many pages as its
        address type can address, and no more than that type holds (65536
        pages of 64 KiB, 2**32 - 1 of one byte for a 32-bit memory)."""
        bits = 64 if self.address is ValType.I64 else 32
        return min((1 << bits) // self.page_size, (1 << bits) - 1)


@dataclass(frozen=True, slots=True)
class GlobalType:
    valtype: ValType
    mutable: bool


@dataclass(frozen=True, slots=True)
class TagType:
    """A tag (exception handling): the index of its function type in the
    module, whose parameters are the exception's payload and whose results
    must be empty.  At run time a tag instance carries the function type
    itself (``interp.runtime.tag``)."""

    type_index: int


ExternType = FuncType | TableType | MemoryType | GlobalType | TagType


def describe_limits(limits: Limits) -> str:
    """``{min 1, max 2}`` or ``{min 1}``, in the spec's notation."""
    return f"{{min {limits.min}}}" if limits.max is None else f"{{min {limits.min}, max {limits.max}}}"


def describe_extern_type(extern: ExternType) -> str:
    """How messages write an extern type: ``func [i32] -> []``, ``table {min
    1, max 10} funcref``, ``memory {min 1}``, ``memory i64 {min 1} (pagesize
    1)``, ``global mut i32``, ``tag (type 2)`` (a tag's function type is the
    module's to tell: ``describe_tag_type``)."""
    if isinstance(extern, FuncType):
        return f"func {extern}"
    if isinstance(extern, TableType):
        return f"table {_address_prefix(extern.address)}{describe_limits(extern.limits)} {extern.elem.text}"
    if isinstance(extern, MemoryType):
        page_size = "" if extern.page_size == PAGE_SIZE else f" (pagesize {extern.page_size})"
        return f"memory {_address_prefix(extern.address)}{describe_limits(extern.limits)}{page_size}"
    if isinstance(extern, TagType):
        return f"tag (type {extern.type_index})"
    return f"global {'mut' if extern.mutable else 'const'} {extern.valtype.text}"


def _address_prefix(address: ValType) -> str:
    return "i64 " if address is ValType.I64 else ""


def describe_tag_type(tag_type: FuncType) -> str:
    """``tag [i32] -> []``: a tag by its function type."""
    return f"tag {tag_type}"


class ExternKind(enum.Enum):
    """The kind of an import or export; the value is its binary encoding."""

    FUNC = 0
    TABLE = 1
    MEMORY = 2
    GLOBAL = 3
    TAG = 4

    @property
    def text(self) -> str:
        return self.name.lower()
