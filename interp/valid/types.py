"""Validation of a module's type section (spec 3.2.2 and 3.5.1): each
recursive group is defined (made canonical, interp/syntax/defined.py) and
its declared subtyping checked; and the closing of the value types a module
writes with type indices into the types the validator and the runtime use.

The checks, in the order the reference interpreter makes them: a type index
must name a type defined so far or in the same group ("unknown type"), a
supertype must come before its subtype, a type may have one supertype, which
must not be final, and must match it structurally ("sub type ... does not
match super type ...").  A group already defined (by this or another module)
is valid: its key fixes everything the checks look at.
"""

from __future__ import annotations

from typing import Callable, Sequence

from interp.errors import InvalidError
from interp.syntax.defined import (
    DefinedType,
    InGroup,
    build_group,
    comp_matches,
    group_key,
    register_group,
    registered_group,
)
from interp.syntax.module import Module
from interp.syntax.types import (
    CompType,
    DefType,
    HeapKind,
    RefType,
    SubType,
    ValType,
    composite,
    ref_type,
)

MAX_SUPERTYPES = 1


def _members(definitions: Sequence[DefType]) -> list[tuple[CompType, bool, tuple[int, ...]]]:
    members = []
    for definition in definitions:
        if isinstance(definition, SubType):
            members.append((definition.comp, definition.final, definition.supertypes))
        else:
            members.append((composite(definition), True, ()))
    return members


def define_module_types(module: Module) -> tuple[DefinedType, ...]:
    """The defined type of every type index of ``module``; raises
    ``InvalidError`` at the first group that is not valid."""
    defined: list[DefinedType] = []
    for first, count, _ in module.type_groups():
        members = _members(module.types[first:first + count])
        end = first + count

        def reference(index: int, first: int = first, end: int = end) -> DefinedType | InGroup:
            if 0 <= index < first:
                return defined[index]
            if first <= index < end:
                return InGroup(index - first)
            raise InvalidError(f"unknown type {index}")

        for position, (_, _, supertypes) in enumerate(members):
            if len(supertypes) > MAX_SUPERTYPES:
                raise InvalidError(f"sub type {first + position} has more than {MAX_SUPERTYPES} supertype")
            for supertype in supertypes:
                if not 0 <= supertype < first + position:
                    if supertype < end and supertype >= 0:
                        raise InvalidError(f"forward use of type {supertype} in sub type definition")
                    reference(supertype)
        key = group_key(members, reference)
        group = registered_group(key)
        if group is None:
            group = build_group(members, reference)
            for position, defined_type in enumerate(group.types):
                _check_subtype(defined_type, first + position, members[position][2])
            group = register_group(key, group)
        defined.extend(group.types)
    return tuple(defined)


def _check_subtype(defined_type: DefinedType, index: int, supertypes: tuple[int, ...]) -> None:
    supertype = defined_type.supertype
    if supertype is None:
        return
    if supertype.final:
        raise InvalidError(f"sub type {index} does not match super type {supertypes[0]}: it is final")
    if not comp_matches(defined_type.comp, supertype.comp):
        raise InvalidError(f"sub type {index} does not match super type {supertypes[0]}")


Closer = Callable[[ValType], ValType]


def type_closer(types: Sequence[DefinedType]) -> Closer:
    """A function closing value types written with the type indices of a
    module whose defined types are ``types``: ``(ref $t)`` becomes the
    reference to ``$t``'s defined type ("unknown type" when there is none)."""

    def close(valtype: ValType) -> ValType:
        if valtype.__class__ is RefType and isinstance(valtype.heap, int):  # type: ignore[attr-defined]
            index = valtype.heap  # type: ignore[attr-defined]
            if not 0 <= index < len(types):
                raise InvalidError(f"unknown type {index}")
            return ref_type(valtype.nullable, types[index])  # type: ignore[attr-defined]
        return valtype

    return close


def close_heap(types: Sequence[DefinedType], heap: HeapKind | int) -> HeapKind | DefinedType:
    """A heap type written by a module (abstract, or a type index) as the
    validator sees it."""
    if isinstance(heap, int):
        if not 0 <= heap < len(types):
            raise InvalidError(f"unknown type {heap}")
        return types[heap]
    return heap
