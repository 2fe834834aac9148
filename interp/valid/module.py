"""Module-level validation (spec sections 3.2 and 3.4): types of tables and
memories, constant expressions of globals and segments, function bodies, the
start function and exports.

The order of the checks follows the reference interpreter's, so that a module
with several faults reports the same one first.
"""

from __future__ import annotations

from typing import Callable

from interp.errors import InvalidError
from interp.syntax.module import Elem, Expr, Func, Module, SegmentMode
from interp.syntax.types import I32, MAX_PAGES, ExternKind, FuncType, Limits, MemoryType, TableType
from interp.valid.context import ModuleContext
from interp.valid.function import validate_const_expr, validate_function

_MAX_TABLE_SIZE = 0xFFFF_FFFF

FunctionCheck = Callable[[ModuleContext, int, Func], None]
"""Validates one function body (``context``, its index in the function index
space, the function), raising ``InvalidError``."""


def validate_module(module: Module, check_function: FunctionCheck = validate_function) -> ModuleContext:
    """Validate ``module``; raise ``InvalidError`` at the first violation.

    Returns the context built on the way, which later phases (the translator,
    instantiation) use to look up the types of indexed entities.  Function
    bodies are checked by ``check_function`` in their turn: the translator
    passes its lowering, which validates each body while lowering it."""
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
    for tag_type in context.tags:
        check_tag_type(tag_type)

    const_context = context.for_constant_expressions()
    for global_ in module.globals:
        validate_const_expr(const_context, global_.init, global_.type.valtype)
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


def check_tag_type(tag_type: FuncType) -> None:
    """A tag's type describes an exception's payload: it has no results."""
    if tag_type.results:
        raise InvalidError("non-empty tag result type")


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


def _check_elem(context: ModuleContext, elem: Elem) -> None:
    for init in elem.init:
        validate_const_expr(context, init, elem.type)
    if elem.mode is SegmentMode.ACTIVE:
        table = context.table_at(elem.table)
        if table.elem is not elem.type:
            raise InvalidError(f"type mismatch: element segment's type {elem.type.text}"
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
        ExternKind.TAG: context.tag_at,
    }
    names: set[str] = set()
    for export in module.exports:
        lookups[export.kind](export.index)
        if export.name in names:
            raise InvalidError(f"duplicate export name {export.name!r}")
        names.add(export.name)
