"""What a module holds, for people and tools: its sections with offsets and
sizes, types, imports, exports, limits, custom sections (names, producers,
DWARF), and what it is for (a WASI command or reactor, a proxy-wasm plugin).

``summarize(binary)`` gives one JSON-ready document; ``glasswasm inspect``
prints it as text or JSON.  Plugins are recognised by their export names only
(``proxy_abi_version_*``, ``proxy_on_*``): the engine knows nothing else of
the proxy-wasm host built on it.
"""

from __future__ import annotations

from typing import Any

from interp.binary.decode import decode_module
from interp.binary.names import SECTION_NAME
from interp.binary.sections import PRODUCERS_SECTION, decode_producers, dwarf_sections, section_layout
from interp.syntax.module import ImportDesc, Module
from interp.syntax.types import (
    ExternKind,
    FuncType,
    GlobalType,
    MemoryType,
    TableType,
    TagType,
    describe_extern_type,
    describe_tag_type,
)
from interp.wasi.command import COMMAND_ENTRY, REACTOR_INITIALIZER
from interp.wasi.constants import WASI_MODULE_NAMES

PROXY_ABI_MARKER = "proxy_abi_version_"
PROXY_CALLBACK_PREFIX = "proxy_on_"

Summary = dict[str, Any]


def summarize(binary: bytes) -> Summary:
    """The summary of a module binary.  Raises ``MalformedError`` when it does
    not decode (it need not validate)."""
    module = decode_module(binary)
    spans = section_layout(binary)
    customs = [span for span in spans if span.custom_name is not None]
    producers = next((decode_producers(c.data) for c in module.customs if c.name == PRODUCERS_SECTION), None)
    return {
        "size": len(binary),
        "sections": [
            {"id": span.id, "name": span.name, "offset": span.offset, "size": span.size, "count": span.count,
             "custom_name": span.custom_name}
            for span in spans
        ],
        "types": [str(func_type) for func_type in module.types],
        "imports": [
            {"module": imp.module, "name": imp.name, "kind": imp.kind.text, "type": _import_type(module, imp.desc)}
            for imp in module.imports
        ],
        "functions": {"imported": len(module.imports_of(ExternKind.FUNC)), "defined": len(module.funcs)},
        "tables": _entities(module.table_types(), len(module.imports_of(ExternKind.TABLE)), module.names.tables),
        "memories": _entities(module.memory_types(), len(module.imports_of(ExternKind.MEMORY)),
                              module.names.memories),
        "globals": _entities(module.global_types(), len(module.imports_of(ExternKind.GLOBAL)),
                             module.names.globals),
        "tags": [{"index": index, "name": module.names.tags.get(index),
                  "imported": index < len(module.imports_of(ExternKind.TAG)), "type": _tag_type(module, tag)}
                 for index, tag in enumerate(module.tag_types())],
        "exports": [
            {"name": export.name, "kind": export.kind.text, "index": export.index,
             "internal_name": _internal_name(module, export.kind, export.index),
             "type": _export_type(module, export.kind, export.index)}
            for export in module.exports
        ],
        "start": None if module.start is None else {"index": module.start,
                                                    "name": module.names.funcs.get(module.start)},
        "custom_sections": [{"name": span.custom_name, "offset": span.offset, "size": span.size}
                            for span in customs],
        "names": _names(module) if any(span.custom_name == SECTION_NAME for span in customs) else None,
        "producers": None if producers is None else {
            field: [{"name": p.name, "version": p.version} for p in values] for field, values in producers.items()},
        "dwarf": list(dwarf_sections(spans)),
        "wasi": _wasi(module),
        "proxy_wasm": _proxy_wasm(module),
    }


def _entities(types: tuple[TableType, ...] | tuple[MemoryType, ...] | tuple[GlobalType, ...], imported: int,
              names: dict[int, str]) -> list[dict[str, Any]]:
    return [{"index": index, "name": names.get(index), "imported": index < imported,
             "type": describe_extern_type(extern_type)}
            for index, extern_type in enumerate(types)]


def _internal_name(module: Module, kind: ExternKind, index: int) -> str | None:
    names = {ExternKind.FUNC: module.names.funcs, ExternKind.TABLE: module.names.tables,
             ExternKind.MEMORY: module.names.memories, ExternKind.GLOBAL: module.names.globals,
             ExternKind.TAG: module.names.tags}[kind]
    return names.get(index)


def _tag_type(module: Module, tag: TagType) -> str:
    """``tag [i32] -> []``, or by type index when there is no such type."""
    if 0 <= tag.type_index < len(module.types):
        return describe_tag_type(module.types[tag.type_index])
    return describe_extern_type(tag)


def _import_type(module: Module, desc: ImportDesc) -> str:
    """What an import asks for (a function's type by index, when the module
    has none at that index: it need not validate to be inspected)."""
    if isinstance(desc, int):
        return describe_extern_type(module.types[desc]) if 0 <= desc < len(module.types) else f"func (type {desc})"
    if isinstance(desc, TagType):
        return _tag_type(module, desc)
    return describe_extern_type(desc)


def _export_type(module: Module, kind: ExternKind, index: int) -> str | None:
    """The exported entity's type, ``None`` for an index out of range (the
    module need not validate to be inspected)."""
    extern_types: tuple[FuncType, ...] | tuple[TableType, ...] | tuple[MemoryType, ...] | tuple[GlobalType, ...]
    if kind is ExternKind.FUNC:
        type_indices = module.func_type_indices()
        if index >= len(type_indices) or type_indices[index] >= len(module.types):
            return None
        return describe_extern_type(module.types[type_indices[index]])
    if kind is ExternKind.TAG:
        tags = module.tag_types()
        return _tag_type(module, tags[index]) if index < len(tags) else None
    extern_types = {ExternKind.TABLE: module.table_types, ExternKind.MEMORY: module.memory_types,
                    ExternKind.GLOBAL: module.global_types}[kind]()
    return describe_extern_type(extern_types[index]) if index < len(extern_types) else None


def _names(module: Module) -> dict[str, Any]:
    """What the ``name`` section names: the module, and how many functions
    and locals (by function) have names."""
    names = module.names
    return {"module": names.module, "functions": len(names.funcs),
            "functions_with_local_names": len(names.locals)}


def _wasi(module: Module) -> dict[str, Any] | None:
    """For a module importing WASI: under which name, how many functions,
    and whether it is a command (``_start``) or a reactor (``_initialize``)."""
    imports = [imp for imp in module.imports if imp.module in WASI_MODULE_NAMES]
    if not imports:
        return None
    exported = {export.name for export in module.exports if export.kind is ExternKind.FUNC}
    kind = "command" if COMMAND_ENTRY in exported else "reactor" if REACTOR_INITIALIZER in exported else "library"
    return {"modules": sorted({imp.module for imp in imports}), "functions": len(imports), "kind": kind}


def _proxy_wasm(module: Module) -> dict[str, Any] | None:
    """For a proxy-wasm plugin (it exports ``proxy_abi_version_X_Y_Z``): the
    ABI versions it declares and the ``proxy_on_*`` callbacks it exports."""
    exported = [export.name for export in module.exports if export.kind is ExternKind.FUNC]
    versions = sorted(name[len(PROXY_ABI_MARKER):].replace("_", ".")
                      for name in exported if name.startswith(PROXY_ABI_MARKER))
    if not versions:
        return None
    return {"abi_versions": versions,
            "callbacks": sorted(name for name in exported if name.startswith(PROXY_CALLBACK_PREFIX))}
