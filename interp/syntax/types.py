"""Types of the WebAssembly 3.0 abstract syntax (spec section 2.3).

Value types are number, vector and reference types.  A reference type is
``(ref null? HEAPTYPE)``: the heap type is abstract (``func``, ``any``,
``extern`` ... a ``HeapKind``), a type index (what a module's text or binary
says, relative to its type section) or, once a module's types are defined
(interp/syntax/defined.py), the canonical ``DefinedType`` the index stands
for, which is the same object in every module that defines an equivalent
type.

Value types are interned: equal types are the same object, so they compare
by identity (``t is I32``), as the validator's hot paths do.  Build reference
types with ``ref_type``; ``FUNCREF``, ``EXTERNREF`` ... are the shorthands.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar


class ValType:
    """A value type: ``NumType``, ``VecType`` or ``RefType``.  Interned, so
    compared by identity; ``text`` is how the text format writes it."""

    __slots__ = ()

    is_num: ClassVar[bool] = False
    is_vec: ClassVar[bool] = False
    is_ref: ClassVar[bool] = False
    text: str

    # The number, vector and shorthand reference types, as class attributes
    # (``ValType.I32``), set below.
    I32: ClassVar[NumType]
    I64: ClassVar[NumType]
    F32: ClassVar[NumType]
    F64: ClassVar[NumType]
    V128: ClassVar[VecType]
    FUNCREF: ClassVar[RefType]
    EXTERNREF: ClassVar[RefType]
    EXNREF: ClassVar[RefType]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"value types are immutable ({name})")

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__

    def __copy__(self) -> ValType:
        return self

    def __deepcopy__(self, memo: dict) -> ValType:
        return self

    @staticmethod
    def from_text(text: str) -> ValType | None:
        """The type a keyword names (``i32``, ``v128``, ``funcref`` ...), or ``None``."""
        return _VALTYPE_BY_TEXT.get(text)

    @staticmethod
    def all_simple() -> tuple[ValType, ...]:
        """The types a keyword names: number, vector and shorthand reference types."""
        return tuple(_VALTYPE_BY_TEXT.values())


class _KeywordType(ValType):
    """A type a keyword names; ``code`` is its binary encoding (one byte)."""

    __slots__ = ("code", "text")

    def __init__(self, code: int, text: str) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "text", text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ValType.from_text, (self.text,))


class NumType(_KeywordType):
    """``i32``, ``i64``, ``f32``, ``f64``."""

    __slots__ = ()
    is_num = True


class VecType(_KeywordType):
    """``v128``."""

    __slots__ = ()
    is_vec = True


class HeapKind(enum.Enum):
    """The abstract heap types: ``(code, text, top)``, where ``code`` is the
    binary encoding (a byte) and ``top`` the text of the top type of its
    hierarchy.  ``BOT`` is the validator's bottom type of every hierarchy
    (the type of an operand taken from unreachable code); it has no encoding."""

    ANY = (0x6E, "any", "any")
    EQ = (0x6D, "eq", "any")
    I31 = (0x6C, "i31", "any")
    STRUCT = (0x6B, "struct", "any")
    ARRAY = (0x6A, "array", "any")
    NONE = (0x71, "none", "any")
    FUNC = (0x70, "func", "func")
    NOFUNC = (0x73, "nofunc", "func")
    EXTERN = (0x6F, "extern", "extern")
    NOEXTERN = (0x72, "noextern", "extern")
    EXN = (0x69, "exn", "exn")
    NOEXN = (0x74, "noexn", "exn")
    BOT = (-1, "bot", "bot")

    def __init__(self, code: int, text: str, top: str) -> None:
        self.code = code
        self.text = text
        self.top_text = top

    @property
    def top(self) -> HeapKind:
        return _HEAP_KIND_BY_TEXT[self.top_text]

    @property
    def bottom(self) -> HeapKind:
        return _BOTTOMS[self.top_text]

    def __repr__(self) -> str:
        return self.text

    @staticmethod
    def from_text(text: str) -> HeapKind | None:
        kind = _HEAP_KIND_BY_TEXT.get(text)
        return None if kind is HeapKind.BOT else kind

    @staticmethod
    def from_code(code: int) -> HeapKind | None:
        return _HEAP_KIND_BY_CODE.get(code)


_HEAP_KIND_BY_TEXT = {kind.text: kind for kind in HeapKind}
_HEAP_KIND_BY_CODE = {kind.code: kind for kind in HeapKind if kind.code >= 0}
_BOTTOMS = {"any": HeapKind.NONE, "func": HeapKind.NOFUNC, "extern": HeapKind.NOEXTERN, "exn": HeapKind.NOEXN,
            "bot": HeapKind.BOT}

HeapType = Any
"""``HeapKind | int | DefinedType``: abstract, a type index (syntax), or the
canonical defined type (interp/syntax/defined.py) an index stands for."""


class RefType(ValType):
    """``(ref null? heap)``.  Build with ``ref_type`` (interned)."""

    __slots__ = ("nullable", "heap", "_text")
    is_ref = True

    def __init__(self, nullable: bool, heap: HeapType) -> None:
        object.__setattr__(self, "nullable", nullable)
        object.__setattr__(self, "heap", heap)
        object.__setattr__(self, "_text", None)

    @property
    def text(self) -> str:  # type: ignore[override]
        """The shorthand (``funcref``) or ``(ref null? HEAP)``; written out
        on first use (a defined type is complete only after its group)."""
        text = self._text
        if text is None:
            shorthand = _SHORTHANDS.get(self.heap) if self.nullable else None
            text = shorthand or f"(ref {'null ' if self.nullable else ''}{heap_type_text(self.heap)})"
            object.__setattr__(self, "_text", text)
        return text

    @property
    def is_concrete(self) -> bool:
        """Whether the heap type is a type (index or defined type), not abstract."""
        return self.heap.__class__ is not HeapKind

    @property
    def code(self) -> int | None:
        """The one-byte shorthand encoding (``funcref`` is 0x70), if it has one."""
        heap = self.heap
        return heap.code if self.nullable and heap.__class__ is HeapKind and heap.code >= 0 else None

    def __reduce__(self) -> tuple[Any, ...]:
        return (ref_type, (self.nullable, self.heap))


_SHORTHANDS = {
    HeapKind.ANY: "anyref", HeapKind.EQ: "eqref", HeapKind.I31: "i31ref", HeapKind.STRUCT: "structref",
    HeapKind.ARRAY: "arrayref", HeapKind.NONE: "nullref", HeapKind.FUNC: "funcref", HeapKind.NOFUNC: "nullfuncref",
    HeapKind.EXTERN: "externref", HeapKind.NOEXTERN: "nullexternref", HeapKind.EXN: "exnref",
    HeapKind.NOEXN: "nullexnref",
}
_REF_TYPES: dict[tuple[bool, object], RefType] = {}


def heap_type_text(heap: HeapType) -> str:
    """``func``, ``3`` (a type index), or a defined type's description."""
    if heap.__class__ is HeapKind:
        return heap.text
    if isinstance(heap, int):
        return str(heap)
    return heap.describe()


def ref_type(nullable: bool, heap: HeapType) -> RefType:
    """The reference type ``(ref null? heap)`` (the one object for it)."""
    key = (nullable, heap)
    found = _REF_TYPES.get(key)
    if found is None:
        if isinstance(heap, bool) or not (heap.__class__ is HeapKind or isinstance(heap, int)
                                          or hasattr(heap, "comp")):
            raise TypeError(f"not a heap type: {heap!r}")
        found = _REF_TYPES[key] = RefType(nullable, heap)
    return found


I32, I64, F32, F64 = NumType(0x7F, "i32"), NumType(0x7E, "i64"), NumType(0x7D, "f32"), NumType(0x7C, "f64")
V128 = VecType(0x7B, "v128")
FUNCREF, EXTERNREF = ref_type(True, HeapKind.FUNC), ref_type(True, HeapKind.EXTERN)
ANYREF, EQREF, I31REF = ref_type(True, HeapKind.ANY), ref_type(True, HeapKind.EQ), ref_type(True, HeapKind.I31)
STRUCTREF, ARRAYREF, NULLREF = (ref_type(True, HeapKind.STRUCT), ref_type(True, HeapKind.ARRAY),
                                ref_type(True, HeapKind.NONE))
NULLFUNCREF, NULLEXTERNREF = ref_type(True, HeapKind.NOFUNC), ref_type(True, HeapKind.NOEXTERN)
EXNREF, NULLEXNREF = ref_type(True, HeapKind.EXN), ref_type(True, HeapKind.NOEXN)

_VALTYPE_BY_TEXT: dict[str, ValType] = {t.text: t for t in (I32, I64, F32, F64, V128)}
_VALTYPE_BY_TEXT.update((text, ref_type(True, kind)) for kind, text in _SHORTHANDS.items())

for _name, _type in (("I32", I32), ("I64", I64), ("F32", F32), ("F64", F64), ("V128", V128),
                     ("FUNCREF", FUNCREF), ("EXTERNREF", EXTERNREF), ("EXNREF", EXNREF)):
    type.__setattr__(ValType, _name, _type)
del _name, _type


def is_defaultable(valtype: ValType) -> bool:
    """Whether a local, field or table slot of this type has a default value
    (every type but the non-nullable reference types)."""
    return not valtype.is_ref or valtype.nullable  # type: ignore[attr-defined]


class PackedType(enum.Enum):
    """The packed storage types of struct fields and array elements: ``(code, text, width in bytes)``."""

    I8 = (0x78, "i8", 1)
    I16 = (0x77, "i16", 2)

    def __init__(self, code: int, text: str, width: int) -> None:
        self.code = code
        self.text = text
        self.width = width

    @staticmethod
    def from_text(text: str) -> PackedType | None:
        return _PACKED_BY_TEXT.get(text)


_PACKED_BY_TEXT = {packed.text: packed for packed in PackedType}

StorageType = ValType | PackedType


@dataclass(frozen=True, slots=True)
class FieldType:
    """A struct field or array element: its storage type and mutability."""

    storage: StorageType
    mutable: bool = False

    @property
    def unpacked(self) -> ValType:
        """The type of the field's value on the stack (i32 for packed fields)."""
        return I32 if isinstance(self.storage, PackedType) else self.storage

    @property
    def is_packed(self) -> bool:
        return isinstance(self.storage, PackedType)

    @property
    def text(self) -> str:
        return f"(mut {self.storage.text})" if self.mutable else self.storage.text


@dataclass(frozen=True, slots=True)
class StructType:
    fields: tuple[FieldType, ...] = ()

    def __str__(self) -> str:
        return "(struct" + "".join(f" (field {field.text})" for field in self.fields) + ")"


@dataclass(frozen=True, slots=True)
class ArrayType:
    field: FieldType

    def __str__(self) -> str:
        return f"(array {self.field.text})"


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


CompType = FuncType | StructType | ArrayType
"""A composite type: what a type definition defines."""


@dataclass(frozen=True, slots=True)
class SubType:
    """``(sub final? supertype* comptype)``: a composite type with its declared
    supertypes (type indices) and whether it may have subtypes.  A bare
    composite type in a module's type section is the abbreviation of a final
    subtype without supertypes; the two are kept apart because they encode
    differently."""

    comp: CompType
    final: bool = False
    supertypes: tuple[int, ...] = ()

    def __str__(self) -> str:
        supertypes = "".join(f" {index}" for index in self.supertypes)
        return f"(sub{' final' if self.final else ''}{supertypes} {self.comp})"


DefType = CompType | SubType
"""An entry of a module's type section: a composite type, or a ``SubType``."""


def composite(definition: DefType) -> CompType:
    """The composite type a type section entry defines."""
    return definition.comp if isinstance(definition, SubType) else definition


def comp_kind(comp: CompType) -> str:
    """``func``, ``struct`` or ``array``."""
    return "func" if isinstance(comp, FuncType) else "struct" if isinstance(comp, StructType) else "array"


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
    elem: ValType  # a reference type
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


def describe_extern_type(extern: ExternType | DefType) -> str:
    """How messages write an extern type: ``func [i32] -> []``, ``table {min
    1, max 10} funcref``, ``memory {min 1}``, ``memory i64 {min 1} (pagesize
    1)``, ``global mut i32``, ``tag (type 2)`` (a tag's function type is the
    module's to tell: ``describe_tag_type``); for a function, its type
    definition (``func (sub 3 [i32] -> [])``)."""
    if isinstance(extern, FuncType):
        return f"func {extern}"
    if isinstance(extern, (SubType, StructType, ArrayType)):
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
