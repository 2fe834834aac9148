"""The validation context of a module (spec section 3.1.1, "Contexts").

The spec validates every part of a module against a context ``C`` that lists the
types of everything the module can refer to by index.  Building it once, as an
immutable value, lets function bodies be validated (and later lowered by the
translator, which drives the same validator) without going back to the module.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Sequence, TypeVar

from interp.errors import InvalidError
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.defined import DefinedType
from interp.syntax.module import Expr, Module, data_entries
from interp.syntax.opcodes import op
from interp.syntax.types import (
    ArrayType,
    ExternKind,
    FuncType,
    GlobalType,
    HeapKind,
    MemoryType,
    StructType,
    TableType,
    ValType,
)
from interp.valid.types import close_heap, define_module_types, type_closer

_T = TypeVar("_T")

_REF_FUNC = op("ref.func")


def lookup(items: Sequence[_T], index: int, what: str) -> _T:
    """``items[index]``, or the spec's "unknown <what> <index>" error.

    Indices come straight from the module, so a negative one must not wrap
    around the way Python indexing would."""
    if 0 <= index < len(items):
        return items[index]
    raise InvalidError(f"unknown {what} {index}")


@dataclass(frozen=True, slots=True)
class ModuleContext:
    """The spec's context ``C`` for a module (without the per-function
    ``locals``, ``labels`` and ``return`` parts, which live in the function
    validator).  Every index space lists imports first.  Types are closed
    (interp/syntax/defined.py): ``types`` holds the defined type of each
    type index, ``funcs`` the function type of each function (and
    ``func_types`` its defined type), and tables, globals and element
    segments have closed value types; ``close`` closes any other type the
    module writes."""

    types: tuple[DefinedType, ...]
    funcs: tuple[FuncType, ...]
    tables: tuple[TableType, ...]
    memories: tuple[MemoryType, ...]
    globals: tuple[GlobalType, ...]
    elems: tuple[ValType, ...]
    datas: int
    """Number of data segments: the bound for ``memory.init`` / ``data.drop``
    indices (the spec's ``C.datas``)."""
    data_count: int | None
    """The data count section's value, when the module has one."""
    refs: frozenset[int]
    imported_globals: int = 0
    """How many of ``globals`` are imports: in WebAssembly 2.0 constant
    expressions of globals and segments may only read those."""
    features: frozenset[Feature] = SUPPORTED_FEATURES
    """Whose validation rules apply (``interp.features``)."""
    tags: tuple[FuncType, ...] = ()
    """The function type of every tag, imports first (exception handling)."""
    func_types: tuple[DefinedType, ...] = ()
    close: Callable[[ValType], ValType] = field(default=lambda valtype: valtype, compare=False)

    @classmethod
    def of_module(cls, module: Module, features: frozenset[Feature] = SUPPORTED_FEATURES) -> ModuleContext:
        """Build ``C`` for ``module``, validating its type section first.
        Raises ``InvalidError`` when a type is invalid, or a function
        (imported or defined) names a type index that does not exist or is no
        function type, since no context can be built without its type."""
        types = define_module_types(module)
        close = type_closer(types)
        func_types = []
        for index in module.func_type_indices():
            defined = lookup(types, index, "type")
            if not defined.is_func:
                raise InvalidError(f"non-function type {index}")
            func_types.append(defined)
        tags = []
        for tag in module.tag_types():
            defined = lookup(types, tag.type_index, "type")
            if not defined.is_func:
                raise InvalidError(f"non-function type {tag.type_index}")
            tags.append(defined.comp)
        globals_ = tuple(GlobalType(close(g.valtype), g.mutable) for g in module.global_types())
        return cls(
            types=types,
            funcs=tuple(defined.comp for defined in func_types),  # type: ignore[misc]
            tables=tuple(TableType(t.limits, close(t.elem), t.address) for t in module.table_types()),
            memories=module.memory_types(),
            globals=globals_,
            elems=tuple(close(elem.type) for elem in module.elems),
            datas=len(module.datas),
            data_count=module.data_count,
            refs=declared_function_references(module),
            imported_globals=len(globals_) - len(module.globals),
            features=features,
            tags=tuple(tags),
            func_types=tuple(func_types),
            close=close,
        )

    def for_constant_expressions(self) -> ModuleContext:
        """The spec's ``C'``: the context in which the constant expressions of
        globals and of element and data segments are validated, where only
        imported globals are visible."""
        if self.imported_globals == len(self.globals):
            return self
        return dataclasses.replace(self, globals=self.globals[:self.imported_globals])

    def type_at(self, index: int) -> DefinedType:
        return lookup(self.types, index, "type")

    def func_type_at(self, index: int) -> FuncType:
        """The function type at type index ``index``."""
        defined = lookup(self.types, index, "type")
        if not defined.is_func:
            raise InvalidError(f"type mismatch: type {index} is not a function type")
        return defined.comp  # type: ignore[return-value]

    def struct_type_at(self, index: int) -> StructType:
        defined = lookup(self.types, index, "type")
        if not defined.is_struct:
            raise InvalidError(f"type mismatch: type {index} is not a struct type")
        return defined.comp  # type: ignore[return-value]

    def array_type_at(self, index: int) -> ArrayType:
        defined = lookup(self.types, index, "type")
        if not defined.is_array:
            raise InvalidError(f"type mismatch: type {index} is not an array type")
        return defined.comp  # type: ignore[return-value]

    def heap(self, heap: HeapKind | int) -> HeapKind | DefinedType:
        """A heap type the module writes, closed."""
        return close_heap(self.types, heap)

    def func_at(self, index: int) -> FuncType:
        return lookup(self.funcs, index, "function")

    def table_at(self, index: int) -> TableType:
        return lookup(self.tables, index, "table")

    def memory_at(self, index: int) -> MemoryType:
        return lookup(self.memories, index, "memory")

    def global_at(self, index: int) -> GlobalType:
        return lookup(self.globals, index, "global")

    def tag_at(self, index: int) -> FuncType:
        """The function type of tag ``index`` (its parameters are the payload)."""
        return lookup(self.tags, index, "tag")

    def elem_at(self, index: int) -> ValType:
        return lookup(self.elems, index, "elem segment")

    def check_data(self, index: int) -> None:
        if not 0 <= index < self.datas:
            raise InvalidError(f"unknown data segment {index}")


def declared_function_references(module: Module) -> frozenset[int]:
    """The spec's ``C.refs``: the function indices occurring in the module
    outside its function bodies and start function, i.e. in global
    initializers, element and data segments, and exports.  Only these may be
    used by ``ref.func`` in function bodies, so that an engine can tell up
    front which functions need a reference."""
    exprs: list[Expr] = [g.init for g in module.globals]
    exprs.extend(init for init in module.table_inits if init is not None)
    for elem in module.elems:
        exprs.extend(elem.init)
        if elem.offset is not None:
            exprs.append(elem.offset)
    exprs.extend(offset for _, _, _, offset, address in data_entries(module.datas)
                 if address is None and offset is not None)
    refs = {instr.imm for expr in exprs for instr in expr if instr.op is _REF_FUNC}
    refs.update(export.index for export in module.exports if export.kind is ExternKind.FUNC)
    return frozenset(refs)
