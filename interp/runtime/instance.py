"""Module instances (spec 4.2.5)."""

from __future__ import annotations

from typing import Any, Protocol

from interp.errors import UsageError
from interp.runtime.function import FunctionInstance, HostFunction, WasmFunction
from interp.runtime.globals import GlobalInstance
from interp.runtime.memory import MemoryInstance
from interp.runtime.table import TableInstance
from interp.runtime.tag import TagInstance
from interp.syntax.types import FuncType
from interp.translate.compiled import CompiledModule

ExternValue = FunctionInstance | TableInstance | MemoryInstance | GlobalInstance | TagInstance


class FunctionRunner(Protocol):
    """What an instance runs its functions with: the store that made it
    (``interp/exec/store.py``)."""

    def invoke(self, func: FunctionInstance, *args: Any) -> list: ...


class ModuleInstance:
    """The run-time form of a module: its functions, tables, memories, tags,
    globals, element and data segments (a dropped segment is empty) and
    exports, each index space with the imports first.  ``name`` labels backtraces;
    ``store`` runs its functions."""

    def __init__(self, compiled: CompiledModule, store: FunctionRunner, name: str | None = None) -> None:
        self.compiled = compiled
        self.module = compiled.module
        self.store = store
        self.name = name
        self.types: tuple[FuncType, ...] = compiled.context.types
        self.funcs: list[FunctionInstance] = []
        self.tables: list[TableInstance] = []
        self.memories: list[MemoryInstance] = []
        self.tags: list[TagInstance] = []
        self.globals: list[GlobalInstance] = []
        self.elems: list[list] = []
        self.datas: list[bytes] = []
        self.exports: dict[str, ExternValue] = {}

    @property
    def memory(self) -> MemoryInstance | None:
        """Memory 0, the only memory a 2.0 module can have."""
        return self.memories[0] if self.memories else None

    def exported_function(self, name: str) -> FunctionInstance:
        value = self.exports.get(name)
        if not isinstance(value, (WasmFunction, HostFunction)):
            known = ", ".join(sorted(n for n, v in self.exports.items()
                                     if isinstance(v, (WasmFunction, HostFunction))))
            raise UsageError(f"no exported function {name!r} (exported functions: {known or 'none'})")
        return value

    def invoke(self, name: str, *args: Any) -> list:
        """Call the exported function ``name``; its results as a list."""
        return self.store.invoke(self.exported_function(name), *args)

    def __repr__(self) -> str:
        return f"<module instance {self.name or ''}>"
