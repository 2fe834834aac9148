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
from typing import Any, Sequence

from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.tag import ExceptionInstance
from interp.syntax.defined import DefinedType
from interp.syntax.module import Names
from interp.syntax.types import HeapKind, PackedType, RefType, StorageType, ValType
from interp.text.values import format_value

I31_MASK = 0x7FFF_FFFF
SHOWN_ELEMENTS = 16
"""How many elements of an array ``repr`` and the tracer show before eliding the rest."""


class TypeNames:
    """How a module names its types and their fields, to show values of
    defined types (a defined type is the same in every module, its name is
    the module's): ``$point`` (its name section's, or the ``$identifier`` of
    its text), else its type index; fields by name or position."""

    def __init__(self, types: Sequence[DefinedType], names: Names) -> None:
        self.names = names
        self.indices: dict[DefinedType, int] = {}
        for index, defined in enumerate(types):
            self.indices.setdefault(defined, index)

    def type_text(self, defined: DefinedType) -> str:
        index = self.indices.get(defined)
        if index is None:
            return defined.describe(0)
        name = self.names.types.get(index)
        return f"${name}" if name else str(index)

    def field_name(self, defined: DefinedType, position: int) -> str | None:
        index = self.indices.get(defined)
        return None if index is None else self.names.fields.get(index, {}).get(position)

    def valtype_text(self, valtype: ValType) -> str:
        """``(ref null $point)`` where ``valtype.text`` would spell the type out."""
        if isinstance(valtype, RefType) and isinstance(valtype.heap, DefinedType):
            return f"(ref {'null ' if valtype.nullable else ''}{self.type_text(valtype.heap)})"
        return valtype.text


def _label(kind: str, defined: DefinedType, names: TypeNames | None) -> str:
    return f"{kind} {names.type_text(defined)}" if names is not None else kind


def _element_text(value: Any, storage: StorageType, names: TypeNames | None) -> str:
    """A field's or element's value; structs and arrays inside are named, not shown."""
    if isinstance(storage, PackedType):
        return str(value)
    if value.__class__ is GcStruct:
        return _label("struct", value.type, names)
    if value.__class__ is GcArray:
        return f"{_label('array', value.type, names)} ({len(value.elements)} elements)"
    return format_value(value, storage, names)


class GcStruct:
    """A structure: ``type`` (a struct ``DefinedType``) and its ``fields``."""

    __slots__ = ("type", "fields", "__weakref__")

    def __init__(self, type: DefinedType, fields: list[Any]) -> None:
        self.type = type
        self.fields = fields

    def show(self, names: TypeNames | None = None) -> str:
        """``struct $point {x 1, y -2}``: the fields by name (or position,
        unnamed), structs and arrays in them by type only."""
        comp = self.type.comp
        parts = []
        for position, (field, value) in enumerate(zip(comp.fields, self.fields)):  # type: ignore[union-attr]
            name = names.field_name(self.type, position) if names is not None else None
            text = _element_text(value, field.storage, names)
            parts.append(f"{name} {text}" if name else text)
        return f"{_label('struct', self.type, names)} {{{', '.join(parts)}}}"

    def __repr__(self) -> str:
        return f"<{self.show()}>"


class GcArray:
    """An array: ``type`` (an array ``DefinedType``) and its ``elements``."""

    __slots__ = ("type", "elements", "__weakref__")

    def __init__(self, type: DefinedType, elements: list[Any]) -> None:
        self.type = type
        self.elements = elements

    def __len__(self) -> int:
        return len(self.elements)

    def show(self, names: TypeNames | None = None) -> str:
        """``array $bytes [1, 2, 3, ... 61 more]``: the first ``SHOWN_ELEMENTS``."""
        storage = self.type.comp.field.storage  # type: ignore[union-attr]
        shown = [_element_text(value, storage, names) for value in self.elements[:SHOWN_ELEMENTS]]
        if len(self.elements) > SHOWN_ELEMENTS:
            shown.append(f"... {len(self.elements) - SHOWN_ELEMENTS} more")
        return f"{_label('array', self.type, names)} [{', '.join(shown)}]"

    def __repr__(self) -> str:
        return f"<{self.show()}>"


@dataclass(frozen=True, slots=True)
class I31:
    """An ``i31ref``: 31 bits, ``0 <= value < 2**31``."""

    value: int

    @property
    def signed(self) -> int:
        return self.value - (1 << 31) if self.value & 0x4000_0000 else self.value

    def show(self, names: TypeNames | None = None) -> str:
        return f"i31 {self.signed}"

    def __repr__(self) -> str:
        return f"i31({self.signed})"


@dataclass(frozen=True, slots=True)
class HostRef:
    """A host value (an ``externref``) seen as an ``anyref``."""

    value: Any

    def show(self, names: TypeNames | None = None) -> str:
        return f"ref.host {self.value!r}"

    def __repr__(self) -> str:
        return f"host({self.value!r})"


GC_OBJECTS = (GcStruct, GcArray, I31)
"""The values of the ``eq`` hierarchy."""


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
    HeapKind.FUNC: _is_function, HeapKind.EXTERN: _always,
    HeapKind.EXN: lambda value: value.__class__ is ExceptionInstance,
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
