"""Module-level validation (spec sections 3.2 and 3.4): types of tables and
memories, constant expressions of globals and segments, function bodies, the
start function and exports.

The order of the checks follows the reference interpreter's, so that a module
with several faults reports the same one first.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

import dataclasses

from interp.errors import FieldKind, FunctionRef, InvalidError, ModuleField
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.defined import matches
from interp.syntax.module import Data, Elem, Expr, Func, Import, Module, SegmentMode, data_entries
from interp.syntax.types import (
    I64, MAX_PAGES, PAGE_SIZE, PAGE_SIZES, ExternKind, FuncType, Limits, MemoryType, TableType, ValType,
    is_defaultable,
)
from interp.text.positions import TextSource
from interp.valid.context import ModuleContext
from interp.valid.function import validate_const_expr, validate_function

_MAX_TABLE_SIZE = 0xFFFF_FFFF
_MAX_TABLE64_SIZE = 0xFFFF_FFFF_FFFF_FFFF

FunctionCheck = Callable[[ModuleContext, int, Func], None]
"""Validates one function body (``context``, its index in the function index
space, the function), raising ``InvalidError``."""


def validate_module(module: Module, check_function: FunctionCheck = validate_function,
                    source: TextSource | None = None,
                    features: frozenset[Feature] = SUPPORTED_FEATURES) -> ModuleContext:
    """Validate ``module`` by the rules of ``features``; raise
    ``InvalidError`` at the first violation.

    Returns the context built on the way, which later phases (the translator,
    instantiation) use to look up the types of indexed entities.  Function
    bodies are checked by ``check_function`` in their turn: the translator
    passes its lowering, which validates each body while lowering it.

    ``features`` are the standard's features to validate by: with ``gc``
    (WebAssembly 3.0) a global's initialiser may read the globals defined
    before it and segments may read every global; without it (2.0), and in
    the initialisers of tables, constant expressions read imported globals
    only.

    The error names the function by its name too, when the module has one
    for it, and, given the ``source`` of a module read from text, says where
    in the text the instruction or field is: the one place where an error
    learns what only the whole module knows."""
    try:
        return _validate(module, check_function, features)
    except InvalidError as error:
        if error.function is not None and error.function.name is None:
            error.function = FunctionRef(error.function.index, module.func_name(error.function.index))
        if source is not None:
            source.locate(error)
        raise


def _validate(module: Module, check_function: FunctionCheck, features: frozenset[Feature]) -> ModuleContext:
    context = ModuleContext.of_module(module, features)
    _check_each(FieldKind.IMPORT, module.imports, _check_import)
    _check_each(FieldKind.TABLE, module.tables, check_table_type)
    _check_each(FieldKind.MEMORY, module.memories, check_memory_type)
    for tag_type in context.tags:
        check_tag_type(tag_type)

    imported_only = context.for_constant_expressions()
    later_globals = Feature.GC in features
    first_global = context.imported_globals
    for position, global_ in enumerate(module.globals):
        global_context = imported_only
        if later_globals and position:
            global_context = dataclasses.replace(context, globals=context.globals[:first_global + position])
        try:
            validate_const_expr(global_context, global_.init, context.globals[first_global + position].valtype)
        except InvalidError as error:
            _name_field(error, FieldKind.GLOBAL, position)
            raise
    first_table = len(context.tables) - len(module.tables)
    for position in range(len(module.tables)):
        try:
            _check_table_init(imported_only, context.tables[first_table + position], module.table_init(position))
        except InvalidError as error:
            _name_field(error, FieldKind.TABLE, position)
            raise
    const_context = context if later_globals else imported_only
    _check_each(FieldKind.ELEM, module.elems, lambda elem: _check_elem(const_context, elem))
    _check_datas(const_context, module.datas)

    first_defined = len(context.funcs) - len(module.funcs)
    for position, func in enumerate(module.funcs):
        check_function(context, first_defined + position, func)

    if module.start is not None:
        try:
            start_type = context.func_at(module.start)
            if start_type.params or start_type.results:
                raise InvalidError("start function must not have parameters or results")
        except InvalidError as error:
            _name_field(error, FieldKind.START, 0)
            raise

    _check_exports(context, module)
    if len(context.memories) > 1 and Feature.MULTI_MEMORY not in features:
        raise InvalidError("multiple memories are not allowed (yet)")
    return context


_T = TypeVar("_T")


def _check_each(kind: FieldKind, fields: Sequence[_T], check: Callable[[_T], None]) -> None:
    """``check`` every field of one kind, in order; an ``InvalidError`` says
    which field it is about."""
    for index, field in enumerate(fields):
        try:
            check(field)
        except InvalidError as error:
            _name_field(error, kind, index)
            raise


def _name_field(error: InvalidError, kind: FieldKind, index: int) -> None:
    """Say in ``error`` which module field it is about, unless it says
    already (by function or field)."""
    if error.function is None and error.field is None:
        error.field = ModuleField(kind, index)


def _check_import(imported: Import) -> None:
    if isinstance(imported.desc, TableType):
        check_table_type(imported.desc)
    elif isinstance(imported.desc, MemoryType):
        check_memory_type(imported.desc)


def check_tag_type(tag_type: FuncType) -> None:
    """A tag's type describes an exception's payload: it has no results."""
    if tag_type.results:
        raise InvalidError("non-empty tag result type")


def check_table_type(table: TableType) -> None:
    if table.address is I64:
        _check_limits(table.limits, _MAX_TABLE64_SIZE, "table size must be at most 2^64-1")
    else:
        _check_limits(table.limits, _MAX_TABLE_SIZE, "table size must be at most 2^32-1")


def check_memory_type(memory: MemoryType) -> None:
    """Its page size is one of ``PAGE_SIZES``, and its limits fit what its
    address type can address: 65536 pages of 64 KiB (4 GiB) for a 32-bit
    memory, 2**48 for a 64-bit one (16 EiB)."""
    if memory.page_size not in PAGE_SIZES:
        raise InvalidError("invalid custom page size")
    bound = memory.max_pages
    if memory.address is I64 or memory.page_size != PAGE_SIZE:
        too_large = f"memory size must be at most {bound} pages"
    else:
        too_large = f"memory size must be at most {MAX_PAGES} pages (4GiB)"
    _check_limits(memory.limits, bound, too_large)


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
        _check_offset(context, elem.offset, table.address)


def _check_datas(context: ModuleContext, datas: Sequence[Data]) -> None:
    """Every data segment, in order.  One whose offset is a plain constant of
    its memory's address type is valid as it is, found without making its
    ``Data`` (a Go module has tens of thousands); any other gets the full
    check, with its error."""
    memories = context.memories
    for index, (_, memory, _, _, address) in enumerate(data_entries(datas)):
        if address is not None and memory < len(memories) and memories[memory].address is address:
            continue
        try:
            _check_data(context, datas[index])
        except InvalidError as error:
            _name_field(error, FieldKind.DATA, index)
            raise


def _check_data(context: ModuleContext, data: Data) -> None:
    if data.mode is SegmentMode.ACTIVE:
        memory = context.memory_at(data.memory)
        _check_offset(context, data.offset, memory.address)


def _check_offset(context: ModuleContext, offset: Expr | None, address: ValType) -> None:
    """An active segment's offset: a constant of its table's or memory's address type."""
    if offset is None:
        raise InvalidError("active segment has no offset expression")
    validate_const_expr(context, offset, address)


def _check_exports(context: ModuleContext, module: Module) -> None:
    lookups = {
        ExternKind.FUNC: context.func_at,
        ExternKind.TABLE: context.table_at,
        ExternKind.MEMORY: context.memory_at,
        ExternKind.GLOBAL: context.global_at,
        ExternKind.TAG: context.tag_at,
    }
    names: set[str] = set()
    for index, export in enumerate(module.exports):
        try:
            lookups[export.kind](export.index)
            if export.name in names:
                raise InvalidError(f"duplicate export name {export.name!r}")
        except InvalidError as error:
            _name_field(error, FieldKind.EXPORT, index)
            raise
        names.add(export.name)
