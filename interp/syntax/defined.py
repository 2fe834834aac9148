"""Defined types: what a module's type indices stand for, the same in every
module (spec 2.3.12 and 3.2.2: recursive types, their canonical form, and
subtyping).

A module's type section is a sequence of recursive groups (``rec``; a type
outside one is a group of its own).  Type equivalence is iso-recursive: two
groups are the same when they define the same composite types, with every
reference to a type of the group written as its position in the group and
every other reference to a type that is itself the same.  ``define_group``
looks a group up in a registry by exactly that key, so equivalent groups of
any modules become the very same ``DefinedType`` objects: equality of types
is identity, within a module (two indices can name one type) and across
modules (an import, ``call_indirect``, a cast compares defined types).

A defined type is *closed*: its composite type's value types refer to other
defined types (``ref_type(null, DefinedType)``), never to indices; so are
the types the validator and the runtime work with.  ``matches`` and
``heap_matches`` are the subtyping relation over closed types.
"""

from __future__ import annotations

from typing import Callable, Sequence

from interp.syntax.types import (
    ArrayType,
    CompType,
    FieldType,
    FuncType,
    HeapKind,
    HeapType,
    PackedType,
    RefType,
    StorageType,
    StructType,
    ValType,
    ref_type,
)


class DefinedType:
    """One type of a canonical recursive group: ``comp`` is its closed
    composite type, ``supertype`` its declared supertype (or ``None``),
    ``final`` whether it may have subtypes.  ``chain`` lists its supertypes
    from the root down to itself, so ``a`` is a subtype of ``b`` exactly when
    ``a.chain[b.depth] is b``.  Compared by identity: equivalent definitions
    of any modules are one object."""

    __slots__ = ("group", "position", "comp", "final", "supertype", "chain", "depth", "kind")

    def __init__(self, group: RecGroup, position: int, final: bool) -> None:
        self.group = group
        self.position = position
        self.final = final
        self.comp: CompType = _INCOMPLETE
        self.supertype: DefinedType | None = None
        self.chain: tuple[DefinedType, ...] = (self,)
        self.depth = 0
        self.kind = "func"

    @property
    def is_func(self) -> bool:
        return self.kind == "func"

    @property
    def is_struct(self) -> bool:
        return self.kind == "struct"

    @property
    def is_array(self) -> bool:
        return self.kind == "array"

    @property
    def top(self) -> HeapKind:
        """The top of the hierarchy its values belong to: ``func`` or ``any``."""
        return HeapKind.FUNC if self.kind == "func" else HeapKind.ANY

    def is_subtype_of(self, other: DefinedType) -> bool:
        chain = self.chain
        depth = other.depth
        return depth < len(chain) and chain[depth] is other

    def describe(self, depth: int = 1) -> str:
        """The composite type in the text format, defined types inside it
        written out ``depth`` levels deep (then as their kind), so that a
        recursive type prints finitely."""
        return _describe_comp(self.comp, depth)

    def __repr__(self) -> str:
        return f"<defined type {self.describe()}>"

    def __copy__(self) -> DefinedType:
        return self

    def __deepcopy__(self, memo: dict) -> DefinedType:
        return self


class RecGroup:
    """A canonical recursive group: its defined types, in order."""

    __slots__ = ("types",)

    def __init__(self) -> None:
        self.types: tuple[DefinedType, ...] = ()


_INCOMPLETE = FuncType((), ())


def _describe_heap(heap: HeapType, depth: int) -> str:
    if heap.__class__ is HeapKind:
        return heap.text
    if isinstance(heap, DefinedType):
        return _describe_comp(heap.comp, depth - 1) if depth > 0 else heap.kind
    return str(heap)


def _describe_val(valtype: ValType | PackedType, depth: int) -> str:
    if isinstance(valtype, RefType) and isinstance(valtype.heap, DefinedType):
        return f"(ref {'null ' if valtype.nullable else ''}{_describe_heap(valtype.heap, depth)})"
    return valtype.text


def _describe_field(field: FieldType, depth: int) -> str:
    text = _describe_val(field.storage, depth)
    return f"(mut {text})" if field.mutable else text


def _describe_comp(comp: CompType, depth: int) -> str:
    if isinstance(comp, FuncType):
        params = "".join(" " + _describe_val(t, depth) for t in comp.params)
        results = "".join(" " + _describe_val(t, depth) for t in comp.results)
        return f"(func{' (param' + params + ')' if params else ''}{' (result' + results + ')' if results else ''})"
    if isinstance(comp, StructType):
        return "(struct" + "".join(f" (field {_describe_field(f, depth)})" for f in comp.fields) + ")"
    return f"(array {_describe_field(comp.field, depth)})"


# -- canonical groups -------------------------------------------------------------------------

class InGroup(int):
    """In a group's key: a reference to the type at this position of the group."""

    __slots__ = ()


Reference = Callable[[int], "DefinedType | InGroup"]
"""Resolves a type index of a definition: the defined type it names, or its
position when it names a type of the group being defined."""

_GROUPS: dict[tuple, RecGroup] = {}


def _key_of_val(valtype: ValType, reference: Reference) -> object:
    if isinstance(valtype, RefType) and isinstance(valtype.heap, int):
        target = reference(valtype.heap)
        if isinstance(target, InGroup):
            return ("rec", valtype.nullable, int(target))
        return ref_type(valtype.nullable, target)
    return valtype


def _key_of_storage(storage: StorageType, reference: Reference) -> object:
    return storage if isinstance(storage, PackedType) else _key_of_val(storage, reference)


def _key_of_comp(comp: CompType, reference: Reference) -> tuple:
    if isinstance(comp, FuncType):
        return ("func", tuple(_key_of_val(t, reference) for t in comp.params),
                tuple(_key_of_val(t, reference) for t in comp.results))
    if isinstance(comp, StructType):
        return ("struct", tuple((_key_of_storage(f.storage, reference), f.mutable) for f in comp.fields))
    if isinstance(comp, ArrayType):
        return ("array", _key_of_storage(comp.field.storage, reference), comp.field.mutable)
    raise TypeError(f"not a composite type: {comp!r}")


def _super_key(target: DefinedType | InGroup) -> object:
    return ("rec", int(target)) if isinstance(target, InGroup) else target


def group_key(members: Sequence[tuple[CompType, bool, tuple[int, ...]]], reference: Reference) -> tuple:
    """The canonical key of a recursive group whose members are given as
    ``(composite type, final, supertype indices)``."""
    return tuple((final, tuple(_super_key(reference(index)) for index in supertypes), _key_of_comp(comp, reference))
                 for comp, final, supertypes in members)


def registered_group(key: tuple) -> RecGroup | None:
    """The canonical group of ``key``, if one was defined."""
    return _GROUPS.get(key)


def register_group(key: tuple, group: RecGroup) -> RecGroup:
    """Make ``group`` the canonical group of ``key`` (once it is known to be
    valid); the group already registered wins."""
    return _GROUPS.setdefault(key, group)


def build_group(members: Sequence[tuple[CompType, bool, tuple[int, ...]]], reference: Reference) -> RecGroup:
    """New defined types for a group (not registered): supertypes and closed
    composite types filled in.  A supertype must come before its subtype
    (the caller checks), so chains are built in order."""
    group = RecGroup()
    types = tuple(DefinedType(group, position, final) for position, (_, final, _) in enumerate(members))
    group.types = types

    def close(valtype: ValType) -> ValType:
        if isinstance(valtype, RefType) and isinstance(valtype.heap, int):
            target = reference(valtype.heap)
            heap = types[target] if isinstance(target, InGroup) else target
            return ref_type(valtype.nullable, heap)
        return valtype

    def close_field(field: FieldType) -> FieldType:
        storage = field.storage
        return field if isinstance(storage, PackedType) else FieldType(close(storage), field.mutable)

    for defined, (comp, _, supertypes) in zip(types, members):
        if isinstance(comp, FuncType):
            defined.comp = FuncType(tuple(map(close, comp.params)), tuple(map(close, comp.results)))
            defined.kind = "func"
        elif isinstance(comp, StructType):
            defined.comp = StructType(tuple(map(close_field, comp.fields)))
            defined.kind = "struct"
        else:
            defined.comp = ArrayType(close_field(comp.field))
            defined.kind = "array"
        if supertypes:
            target = reference(supertypes[0])
            supertype = types[target] if isinstance(target, InGroup) else target
            defined.supertype = supertype
            defined.chain = supertype.chain + (defined,)
            defined.depth = len(defined.chain) - 1
    return group


def define_func_type(func_type: FuncType) -> DefinedType:
    """The defined type of a final function type without supertypes, in a
    group of its own, whose value types are closed: the type of a host
    function."""
    def outside(index: int) -> DefinedType:
        raise ValueError(f"a host function's type refers to type index {index}: give a defined type instead")

    members = ((func_type, True, ()),)
    key = group_key(members, outside)
    group = registered_group(key)
    if group is None:
        group = register_group(key, build_group(members, outside))
    return group.types[0]


# -- subtyping --------------------------------------------------------------------------------

_ANY_KINDS = frozenset({HeapKind.ANY, HeapKind.EQ, HeapKind.I31, HeapKind.STRUCT, HeapKind.ARRAY, HeapKind.NONE})
_EQ_KINDS = frozenset({HeapKind.EQ, HeapKind.I31, HeapKind.STRUCT, HeapKind.ARRAY})


def top_heap(heap: HeapType) -> HeapKind:
    """The top type of the hierarchy ``heap`` belongs to (``BOT``: itself)."""
    if heap.__class__ is HeapKind:
        return heap.top
    return heap.top


def heap_matches(sub: HeapType, sup: HeapType) -> bool:
    """Whether closed heap type ``sub`` is a subtype of ``sup``."""
    if sub is sup:
        return True
    if sub.__class__ is HeapKind:
        if sub is HeapKind.BOT:
            return True
        if sup.__class__ is HeapKind:
            if sup is HeapKind.ANY:
                return sub in _ANY_KINDS
            if sup is HeapKind.EQ:
                return sub in _EQ_KINDS or sub is HeapKind.NONE
            if sub is HeapKind.NONE:
                return sup in _ANY_KINDS
            if sub is HeapKind.NOFUNC:
                return sup is HeapKind.FUNC
            if sub is HeapKind.NOEXTERN:
                return sup is HeapKind.EXTERN
            if sub is HeapKind.NOEXN:
                return sup is HeapKind.EXN
            return False
        # an abstract type below a defined type: only the bottom of its hierarchy
        return sub is sup.top.bottom
    if sup.__class__ is HeapKind:
        kind = sub.kind
        if kind == "func":
            return sup is HeapKind.FUNC
        return sup is HeapKind.ANY or sup is HeapKind.EQ or \
            (sup is HeapKind.STRUCT if kind == "struct" else sup is HeapKind.ARRAY)
    return sub.is_subtype_of(sup)


def matches(sub: ValType | None, sup: ValType | None) -> bool:
    """Whether closed value type ``sub`` is a subtype of ``sup``; ``None``
    (the validator's unknown type) matches and is matched by anything."""
    if sub is sup or sub is None or sup is None:
        return True
    if isinstance(sub, RefType) and isinstance(sup, RefType):
        return (sup.nullable or not sub.nullable) and heap_matches(sub.heap, sup.heap)
    return False


def all_match(subs: Sequence[ValType], sups: Sequence[ValType]) -> bool:
    return len(subs) == len(sups) and all(matches(a, b) for a, b in zip(subs, sups))


def _storage_matches(sub: StorageType, sup: StorageType) -> bool:
    if isinstance(sub, PackedType) or isinstance(sup, PackedType):
        return sub is sup
    return matches(sub, sup)


def _field_matches(sub: FieldType, sup: FieldType) -> bool:
    if sub.mutable != sup.mutable:
        return False
    if sub.mutable:
        return _storage_matches(sub.storage, sup.storage) and _storage_matches(sup.storage, sub.storage)
    return _storage_matches(sub.storage, sup.storage)


def comp_matches(sub: CompType, sup: CompType) -> bool:
    """Whether closed composite type ``sub`` may declare ``sup``'s type as
    its supertype: functions contravariant in their parameters and covariant
    in their results, structs extending their supertype's fields (immutable
    fields covariant, mutable ones invariant), arrays likewise."""
    if isinstance(sub, FuncType) and isinstance(sup, FuncType):
        return all_match(sup.params, sub.params) and all_match(sub.results, sup.results)
    if isinstance(sub, StructType) and isinstance(sup, StructType):
        return len(sub.fields) >= len(sup.fields) and \
            all(_field_matches(a, b) for a, b in zip(sub.fields, sup.fields))
    if isinstance(sub, ArrayType) and isinstance(sup, ArrayType):
        return _field_matches(sub.field, sup.field)
    return False
