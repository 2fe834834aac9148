"""The engine: decode, parse, validate, instantiate, run, trace and debug
WebAssembly modules.

The names most programs need are available from here (loaded on first use, so
that importing one part of the engine does not load all of it)::

    from interp import HostFunction, Store, read_module

    store = Store()
    instance = store.instantiate(read_module("module.wasm"))
    print(instance.invoke("fib", 20))
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_PUBLIC = {
    "read_module": "interp.loader",
    "module_from_bytes": "interp.loader",
    "load_module": "interp.loader",
    "load_bytes": "interp.loader",
    "decode_module": "interp.binary.decode",
    "encode_module": "interp.binary.encode",
    "parse_module": "interp.text.parser",
    "parse_script": "interp.text.script",
    "print_module": "interp.text.printer",
    "validate_module": "interp.valid.module",
    "compile_module": "interp.translate.compiled",
    "compile_binary": "interp.translate.compiled",
    "ModuleCache": "interp.translate.cache",
    "Store": "interp.exec.store",
    "EngineConfig": "interp.exec.store",
    "HostFunction": "interp.runtime.function",
    "TagInstance": "interp.runtime.tag",
    "ExceptionInstance": "interp.runtime.tag",
    "UncaughtException": "interp.errors",
    "GcStruct": "interp.runtime.references",
    "GcArray": "interp.runtime.references",
    "I31": "interp.runtime.references",
    "HostRef": "interp.runtime.references",
    "available_engines": "interp.exec.engines",
    "TracingObserver": "interp.debug.tracing",
    "Tracer": "interp.debug.tracing",
    "DebugSession": "interp.debug.session",
    "SourceMap": "interp.dwarf.source_map",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'interp' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
