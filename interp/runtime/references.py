"""The values of the reference types that are not functions (spec 4.2.1,
4.2.10): structures, arrays, unboxed 31-bit integers, and host references
converted to ``any``.

They are plain Python objects, shared by both engines and by the Python API:
an ``instance.invoke`` that returns a struct returns a ``GcStruct``, which can
be passed back in, and host functions receive and return them as they are.
Nothing keeps them alive but the references to them, so Python's own garbage
collector reclaims a structure or array when no global, table, local, other
object or host value refers to it any more (cycles included): the store
holds no list of the objects it allocated.

* ``GcStruct``: its defined type (``type``, canonical) and ``fields``, one
  value per field in the representation of values.py; a packed field
  (``i8``, ``i16``) holds its bits as an unsigned int.
* ``GcArray``: its defined type and ``elements``, likewise.
* ``I31``: an ``i31ref``: ``value`` is the 31 bits as an unsigned int
  (``signed`` reads them signed).  Two ``I31`` with the same value are the
  same reference (``ref.eq``).
* ``HostRef``: a host value (an ``externref``) converted to ``anyref`` by
  ``any.convert_extern``, what the script format calls ``ref.host``;
  ``extern.convert_any`` gives back ``value``.  A struct, array or i31
  converted to ``externref`` stays itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from interp.runtime.function import HostFunction, WasmFunction
from interp.syntax.defined import DefinedType
from interp.syntax.types import HeapKind, RefType

I31_MASK = 0x7FFF_FFFF
SHOWN_ELEMENTS = 16
"""How many elements of an array ``repr`` and the tracer show before eliding the rest."""


class GcStruct:
    """A structure: ``type`` (a struct ``DefinedType``) and its ``fields``."""

    __slots__ = ("type", "fields", "__weakref__")

    def __init__(self, type: DefinedType, fields: list[Any]) -> None:
        self.type = type
        self.fields = fields

    def __repr__(self) -> str:
        return f"<struct {self.type.describe(0)} {{{', '.join(map(_value_text, self.fields))}}}>"


class GcArray:
    """An array: ``type`` (an array ``DefinedType``) and its ``elements``."""

    __slots__ = ("type", "elements", "__weakref__")

    def __init__(self, type: DefinedType, elements: list[Any]) -> None:
        self.type = type
        self.elements = elements

    def __len__(self) -> int:
        return len(self.elements)

    def __repr__(self) -> str:
        shown = ", ".join(map(_value_text, self.elements[:SHOWN_ELEMENTS]))
        more = f", ... ({len(self.elements)} elements)" if len(self.elements) > SHOWN_ELEMENTS else ""
        return f"<array {self.type.describe(0)} [{shown}{more}]>"


@dataclass(frozen=True, slots=True)
class I31:
    """An ``i31ref``: 31 bits, ``0 <= value < 2**31``."""

    value: int

    @property
    def signed(self) -> int:
        return self.value - (1 << 31) if self.value & 0x4000_0000 else self.value

    def __repr__(self) -> str:
        return f"i31({self.signed})"


@dataclass(frozen=True, slots=True)
class HostRef:
    """A host value (an ``externref``) seen as an ``anyref``."""

    value: Any

    def __repr__(self) -> str:
        return f"host({self.value!r})"


GC_OBJECTS = (GcStruct, GcArray, I31)
"""The values of the ``eq`` hierarchy."""


def _value_text(value: Any) -> str:
    if isinstance(value, (GcStruct, GcArray)):
        return f"<{'struct' if isinstance(value, GcStruct) else 'array'}>"  # no recursion into cycles
    return repr(value)


def _is_any(value: Any) -> bool:
    return isinstance(value, (GcStruct, GcArray, I31, HostRef))


def _is_eq(value: Any) -> bool:
    return isinstance(value, GC_OBJECTS)


def _is_function(value: Any) -> bool:
    return isinstance(value, (WasmFunction, HostFunction))


def _never(value: Any) -> bool:
    return False


def _always(value: Any) -> bool:
    return True


_ABSTRACT_TESTS = {
    HeapKind.ANY: _is_any, HeapKind.EQ: _is_eq, HeapKind.I31: lambda value: value.__class__ is I31,
    HeapKind.STRUCT: lambda value: value.__class__ is GcStruct,
    HeapKind.ARRAY: lambda value: value.__class__ is GcArray,
    HeapKind.FUNC: _is_function, HeapKind.EXTERN: _always, HeapKind.EXN: _always,
    HeapKind.NONE: _never, HeapKind.NOFUNC: _never, HeapKind.NOEXTERN: _never, HeapKind.NOEXN: _never,
    HeapKind.BOT: _never,
}


def defined_type_of(value: Any) -> DefinedType | None:
    """The defined type of a struct, array or function; ``None`` for other values."""
    cls = value.__class__
    if cls is GcStruct or cls is GcArray:
        return value.type
    if cls is WasmFunction or cls is HostFunction:
        return value.deftype
    return None


def ref_matches(value: Any, reftype: RefType) -> bool:
    """Whether the reference ``value`` is of the closed type ``reftype`` (the
    run-time test of ``ref.test``, ``ref.cast`` and ``br_on_cast``)."""
    if value is None:
        return reftype.nullable
    heap = reftype.heap
    if heap.__class__ is HeapKind:
        return _ABSTRACT_TESTS[heap](value)
    defined = defined_type_of(value)
    return defined is not None and (defined is heap or defined.is_subtype_of(heap))
