"""Instantiation (spec 4.5.4): linking imports, allocating the instance,
initialising tables and memories from active segments, running the start
function — in the spec's order, so a trap in a later segment leaves the effects
of earlier ones in place, as the testsuite checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable

from interp.errors import FieldKind, FunctionRef, ModuleField, ResourceLimitError, UnlinkableError
from interp.exec.engines import EngineConfig
from interp.exec.instance_ops import instance_operation
from interp.exec.python_semantics import python_function
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.globals import GlobalInstance
from interp.runtime.instance import ExternValue, ModuleInstance
from interp.runtime.memory import MemoryInstance
from interp.runtime.table import TableInstance
from interp.runtime.tag import TagInstance
from interp.syntax.defined import DefinedType, matches
from interp.syntax.module import Expr, Import, Module, SegmentMode, data_entries
from interp.syntax.opcodes import Imm, op
from interp.syntax.semantics import RUNTIME, Compute
from interp.syntax.types import (
    PAGE_SIZE,
    ExternKind,
    ExternType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    TagType,
)
from interp.syntax.values import f32_from_bits, f64_from_bits
from interp.text.printer import format_extern_type, format_tag_type

_I32_CONST = op("i32.const")

Imports = Mapping[str, Mapping[str, ExternValue]]
"""Import values by module name, then field name.  A module instance's
``exports`` is such an inner mapping, so registering an instance under a name
is ``imports[name] = instance.exports``."""


def instantiate(instance: ModuleInstance, imports: Imports, config: EngineConfig, run_start: bool = True) -> None:
    """Make ``instance`` (new, of a compiled module) what its module describes,
    with ``imports``, within the limits of ``config``; then run its start
    function (unless ``run_start`` is false: a debugger runs it itself)."""
    module = instance.module
    context = instance.compiled.context

    for index, imp in enumerate(module.imports):
        expected = _closed_import_type(instance, imp)
        try:
            _link(instance, imp, _lookup(imports, imp), expected)
        except UnlinkableError as error:
            error.import_module, error.import_name = imp.module, imp.name
            error.expected = _type_text(instance, expected)
            error.field = ModuleField(FieldKind.IMPORT, index)
            if isinstance(imp.desc, int):
                function = len(instance.funcs)  # the imports before it are linked
                error.function = FunctionRef(function, module.func_name(function))
            if instance.compiled.source is not None:
                instance.compiled.source.locate(error)
            raise

    first_defined = len(instance.funcs)
    for position in range(len(module.funcs)):
        index = first_defined + position
        instance.funcs.append(WasmFunction(context.funcs[index], instance, index, context.func_types[index]))

    first_global = len(instance.globals)
    for position, glob in enumerate(module.globals):
        global_type = context.globals[first_global + position]
        instance.globals.append(GlobalInstance(global_type, evaluate_constant(glob.init, instance)))
    first_table = len(instance.tables)
    for position, table_type in enumerate(module.tables):
        if table_type.limits.min > config.max_table_elements:
            raise ResourceLimitError(
                f"table of {table_type.limits.min} elements exceeds this engine's limit of "
                f"{config.max_table_elements}")
        init = module.table_init(position)
        value = None if init is None else evaluate_constant(init, instance)
        instance.tables.append(TableInstance(context.tables[first_table + position], value,
                                             config.max_table_elements))
    for memory_type in module.memories:
        if memory_type.limits.min * memory_type.page_size > config.max_memory_pages * PAGE_SIZE:
            size = "" if memory_type.page_size == PAGE_SIZE else f" of {memory_type.page_size} bytes"
            raise ResourceLimitError(
                f"memory of {memory_type.limits.min} pages{size} exceeds this engine's limit of "
                f"{config.max_memory_pages} pages of 64 KiB")
        instance.memories.append(MemoryInstance(memory_type, config.max_memory_pages))
    first_tag = len(instance.tags)
    for position, tag in enumerate(module.tags):
        instance.tags.append(TagInstance(context.tags[first_tag + position], _tag_name(module, first_tag + position),
                                         context.types[tag.type_index]))

    for elem in module.elems:
        instance.elems.append([evaluate_constant(expr, instance) for expr in elem.init])
    data_segments = list(data_entries(module.datas))  # each segment read once
    instance.datas.extend([init for _, _, init, _, _ in data_segments])

    index_spaces = {
        ExternKind.FUNC: instance.funcs,
        ExternKind.TABLE: instance.tables,
        ExternKind.MEMORY: instance.memories,
        ExternKind.GLOBAL: instance.globals,
        ExternKind.TAG: instance.tags,
    }
    for export in module.exports:
        instance.exports[export.name] = index_spaces[export.kind][export.index]

    for index, elem in enumerate(module.elems):
        if elem.mode is SegmentMode.ACTIVE:
            segment = instance.elems[index]
            destination = evaluate_constant(elem.offset, instance)
            instance.tables[elem.table].init_from(segment, destination, 0, len(segment))
        if elem.mode is not SegmentMode.PASSIVE:
            instance.elems[index] = []
    for index, (mode, memory, init, offset, address) in enumerate(data_segments):
        if mode is SegmentMode.ACTIVE:
            # A plain constant offset comes as its value, any other as its expression.
            destination = offset if address is not None else evaluate_constant(offset, instance)  # type: ignore[arg-type]
            instance.memories[memory].init_from(init, destination, 0, len(init))
            instance.datas[index] = b""

    if module.start is not None and run_start:
        instance.store.invoke(instance.funcs[module.start])


def _lookup(imports: Imports, imp: Import) -> ExternValue:
    where = _import_name(imp)
    fields = imports.get(imp.module)
    if fields is None:
        given = ", ".join(f'"{name}"' for name in sorted(imports)) or "none"
        raise UnlinkableError(f'unknown import {where}: no module "{imp.module}" is provided (provided: {given})')
    value = fields.get(imp.name)
    if value is None:
        raise UnlinkableError(f'unknown import {where}: module "{imp.module}" has no "{imp.name}"')
    return value


def _closed_import_type(instance: ModuleInstance, imp: Import) -> DefinedType | ExternType:
    """What the import asks for, closed: the defined type of a function,
    the table or global type with closed value types, the memory or tag
    type.  The import is the next of its kind in the instance's index
    spaces."""
    context = instance.compiled.context
    if isinstance(imp.desc, int):
        return context.func_types[len(instance.funcs)]
    if isinstance(imp.desc, TableType):
        return context.tables[len(instance.tables)]
    if isinstance(imp.desc, GlobalType):
        return context.globals[len(instance.globals)]
    return imp.desc


def _link(instance: ModuleInstance, imp: Import, value: ExternValue, expected: DefinedType | ExternType) -> None:
    """Check ``value`` against the import's closed type (spec 4.5.3 "Import
    Matching": a function's type may be a subtype of the one asked for, an
    immutable global's too) and add it to the instance's index space."""
    if isinstance(expected, DefinedType):
        if isinstance(value, (WasmFunction, HostFunction)) and \
                (value.deftype is expected or value.deftype.is_subtype_of(expected)):
            instance.funcs.append(value)
            return
    elif isinstance(expected, TableType):
        if isinstance(value, TableInstance) and value.type.elem is expected.elem \
                and value.type.address is expected.address \
                and _limits_match(value.current_type.limits, expected.limits):
            instance.tables.append(value)
            return
    elif isinstance(expected, MemoryType):
        if isinstance(value, MemoryInstance) and value.type.address is expected.address \
                and value.page_size == expected.page_size \
                and _limits_match(value.current_type.limits, expected.limits):
            instance.memories.append(value)
            return
    elif isinstance(expected, TagType):
        if isinstance(value, TagInstance) and value.matches(instance.compiled.context.types[expected.type_index]):
            instance.tags.append(value)
            return
    elif isinstance(value, GlobalInstance) and _global_matches(value.type, expected):
        instance.globals.append(value)
        return
    given = _given_type(value)
    raise UnlinkableError(f"incompatible import type for {_import_name(imp)}: expected "
                          f"{_type_text(instance, expected)}, got {given}", given=given)


def _global_matches(actual: GlobalType, expected: GlobalType) -> bool:
    """A mutable global must have exactly the type asked for; an immutable
    one may have a subtype."""
    if actual.mutable != expected.mutable:
        return False
    if actual.mutable:
        return actual.valtype is expected.valtype
    return matches(actual.valtype, expected.valtype)


def _type_text(instance: ModuleInstance, extern: DefinedType | ExternType) -> str:
    """An import's type in the text format; a function's by its function
    type, a tag's likewise."""
    if isinstance(extern, DefinedType):
        return format_extern_type(extern.comp)  # type: ignore[arg-type]
    if isinstance(extern, TagType):
        return format_tag_type(instance.compiled.context.types[extern.type_index].comp)  # type: ignore[arg-type]
    return format_extern_type(extern)


def _import_name(imp: Import) -> str:
    return f'"{imp.module}"."{imp.name}"'


def _given_type(value: object) -> str:
    """The extern type of what was provided for an import (a table or a
    memory with its current size)."""
    if isinstance(value, (WasmFunction, HostFunction)):
        return format_extern_type(value.type)
    if isinstance(value, (TableInstance, MemoryInstance)):
        return format_extern_type(value.current_type)
    if isinstance(value, GlobalInstance):
        return format_extern_type(value.type)
    if isinstance(value, TagInstance):
        return format_tag_type(value.type)
    return f"a Python {type(value).__name__}, which is no extern value"


def _tag_name(module: Module, index: int) -> str | None:
    """What to call tag ``index`` in messages: its name, else its first export's."""
    name = module.names.tags.get(index)
    if name is not None:
        return "$" + name
    return next((f'"{export.name}"' for export in module.exports
                 if export.kind is ExternKind.TAG and export.index == index), None)


def _limits_match(actual: Limits, expected: Limits) -> bool:
    if actual.min < expected.min:
        return False
    if expected.max is None:
        return True
    return actual.max is not None and actual.max <= expected.max


def evaluate_constant(expr: Expr, instance: ModuleInstance) -> object:
    """Evaluate a validated constant expression (global initialisers, segment
    offsets and element initialisers)."""
    if len(expr) == 2 and expr[0].op is _I32_CONST:
        return expr[0].imm  # the usual segment offset, by far (a Go module has tens of thousands)
    stack: list = []
    for instr in expr:
        operation = instr.op
        name = operation.name
        if name == "end":
            break
        if operation.imm is Imm.I32 or operation.imm is Imm.I64 or operation.imm is Imm.V128:
            stack.append(instr.imm)
        elif operation.imm is Imm.F32:
            stack.append(f32_from_bits(instr.imm))
        elif operation.imm is Imm.F64:
            stack.append(f64_from_bits(instr.imm))
        elif name == "global.get":
            stack.append(instance.globals[instr.imm].value)
        elif name == "ref.null":
            stack.append(None)
        elif name == "ref.func":
            stack.append(instance.funcs[instr.imm])
        elif isinstance(operation.semantics, Compute):
            # Extended constant expressions (i32.add ...): the numeric semantics.
            _apply(stack, python_function(operation), len(operation.params or ()))
        elif operation.semantics is RUNTIME:
            # ref.i31, struct.new, array.new_fixed ...: the instruction's function.
            found = instance_operation(instance, operation, instr.imm)
            _apply(stack, found.function, len(found.params), found.result is not None)
        else:
            raise ValueError(f"{name} is not a constant instruction")
    return stack[-1]


def _apply(stack: list, function: Callable[..., object], arity: int, result: bool = True) -> None:
    """Run ``function`` on the top ``arity`` values of ``stack``, replacing them by its result."""
    args = stack[len(stack) - arity:]
    del stack[len(stack) - arity:]
    value = function(*args)
    if result:
        stack.append(value)
