"""Module-level validation (spec sections 3.2 and 3.4): types of tables and
memories, constant expressions of globals and segments, function bodies, the
start function and exports.

The order of the checks follows the reference interpreter's, so that a module
with several faults reports the same one first.
"""

from __future__ import annotations

from typing import Callable

import dataclasses

from interp.errors import InvalidError
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.defined import matches
from interp.syntax.module import Elem, Expr, Func, Module, SegmentMode
from interp.syntax.types import I32, MAX_PAGES, ExternKind, Limits, MemoryType, TableType, is_defaultable
from interp.valid.context import ModuleContext
from interp.valid.function import validate_const_expr, validate_function

_MAX_TABLE_SIZE = 0xFFFF_FFFF

FunctionCheck = Callable[[ModuleContext, int, Func], None]
"""Validates one function body (``context``, its index in the function index
space, the function), raising ``InvalidError``."""


def validate_module(module: Module, check_function: FunctionCheck = validate_function,
                    features: frozenset[Feature] = SUPPORTED_FEATURES) -> ModuleContext:
    """Validate ``module``; raise ``InvalidError`` at the first violation.

    Returns the context built on the way, which later phases (the translator,
    instantiation) use to look up the types of indexed entities.  Function
    bodies are checked by ``check_function`` in their turn: the translator
    passes its lowering, which validates each body while lowering it.

    ``features`` are the standard's features to validate by: with ``gc``
    (WebAssembly 3.0) a global's initialiser may read the globals defined
    before it and segments may read every global; without it (2.0), and in
    the initialisers of tables, constant expressions read imported globals
    only."""
    context = ModuleContext.of_module(module)
    for imported in module.imports:
        if isinstance(imported.desc, TableType):
            check_table_type(imported.desc)
        elif isinstance(imported.desc, MemoryType):
            check_memory_type(imported.desc)
    for table in module.tables:
        check_table_type(table)
    for memory in module.memories:
        check_memory_type(memory)

    imported_only = context.for_constant_expressions()
    later_globals = Feature.GC in features
    for position, global_ in enumerate(module.globals):
        global_context = imported_only
        if later_globals and position:
            global_context = dataclasses.replace(context, globals=context.globals[:context.imported_globals + position])
        validate_const_expr(global_context, global_.init, context.globals[context.imported_globals + position].valtype)
    first_table = len(context.tables) - len(module.tables)
    for position in range(len(module.tables)):
        _check_table_init(imported_only, context.tables[first_table + position], module.table_init(position))
    const_context = context if later_globals else imported_only
    for elem in module.elems:
        _check_elem(const_context, elem)
    for data in module.datas:
        if data.mode is SegmentMode.ACTIVE:
            const_context.memory_at(data.memory)
            _check_offset(const_context, data.offset)

    first_defined = len(context.funcs) - len(module.funcs)
    for position, func in enumerate(module.funcs):
        check_function(context, first_defined + position, func)

    if module.start is not None:
        start_type = context.func_at(module.start)
        if start_type.params or start_type.results:
            raise InvalidError("start function must not have parameters or results")

    _check_exports(context, module)
    if len(context.memories) > 1:
        raise InvalidError("multiple memories are not allowed (yet)")
    return context


def check_table_type(table: TableType) -> None:
    _check_limits(table.limits, _MAX_TABLE_SIZE, "table size must be at most 2^32-1")


def check_memory_type(memory: MemoryType) -> None:
    _check_limits(memory.limits, MAX_PAGES, "memory size must be at most 65536 pages (4GiB)")


def _check_limits(limits: Limits, bound: int, too_large: str) -> None:
    if not 0 <= limits.min <= bound:
        raise InvalidError(too_large)
    if limits.max is not None:
        if not 0 <= limits.max <= bound:
            raise InvalidError(too_large)
        if limits.min > limits.max:
            raise InvalidError("size minimum must not be greater than maximum")


def _check_table_init(context: ModuleContext, table: TableType, init: Expr | None) -> None:
    """A table's elements start as its initialiser's value, or null, which
    only a nullable element type has."""
    if init is not None:
        validate_const_expr(context, init, table.elem)
    elif not is_defaultable(table.elem):
        raise InvalidError(f"type mismatch: a table of {table.elem.text} needs an initialiser")


def _check_elem(context: ModuleContext, elem: Elem) -> None:
    elem_type = context.close(elem.type)
    for init in elem.init:
        validate_const_expr(context, init, elem_type)
    if elem.mode is SegmentMode.ACTIVE:
        table = context.table_at(elem.table)
        if not matches(elem_type, table.elem):
            raise InvalidError(f"type mismatch: element segment's type {elem_type.text}"
                               f" does not match table's element type {table.elem.text}")
        _check_offset(context, elem.offset)


def _check_offset(context: ModuleContext, offset: Expr | None) -> None:
    if offset is None:
        raise InvalidError("active segment has no offset expression")
    validate_const_expr(context, offset, I32)


def _check_exports(context: ModuleContext, module: Module) -> None:
    lookups = {
        ExternKind.FUNC: context.func_at,
        ExternKind.TABLE: context.table_at,
        ExternKind.MEMORY: context.memory_at,
        ExternKind.GLOBAL: context.global_at,
    }
    names: set[str] = set()
    for export in module.exports:
        lookups[export.kind](export.index)
        if export.name in names:
            raise InvalidError(f"duplicate export name {export.name!r}")
        names.add(export.name)
