"""The ``env`` host functions of ABI 0.2.1, one module per area, and the
import resolution they drive.

Every ``env`` function a plugin imports is resolved here: an implemented one
(``base.HOST_CALLS``) must have the ABI's type; any other gets a stub of the
module's own declared type — ``proxy_*`` stubs answer UNIMPLEMENTED, other
``env`` imports (``emscripten_notify_memory_growth``...) return zeros — so
every module that only uses what it may find missing still instantiates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from abi.enums import Status
from abi.errors import PluginLoadError
from abi.hostcalls import (  # noqa: F401  (each module registers its functions)
    buffers,
    header_maps,
    http_calls,
    logging,
    metrics,
    properties,
    stream_control,
)
from abi.hostcalls.base import HOST_CALLS
from interp.runtime.function import HostFunction
from interp.syntax.module import Module
from interp.syntax.types import I32, F32, F64, I64, FuncType, ValType

if TYPE_CHECKING:
    from abi.plugin import Plugin

__all__ = ["HOST_CALLS", "env_imports"]


def env_imports(plugin: Plugin, module: Module) -> dict[str, HostFunction]:
    """The functions for every ``env`` import of ``module``, bound to ``plugin``."""
    functions: dict[str, HostFunction] = {}
    for imp in module.imports:
        if imp.module != "env":
            continue
        if not isinstance(imp.desc, int):
            raise PluginLoadError(plugin.name, f"imports env.{imp.name} as a {type(imp.desc).__name__}; "
                                               f"a proxy-wasm host provides only functions")
        declared = module.types[imp.desc]
        spec = HOST_CALLS.get(imp.name)
        if spec is None:
            functions[imp.name] = _stub(plugin, imp.name, declared)
        elif declared != spec.func_type:
            raise PluginLoadError(plugin.name, f"imports env.{imp.name} with type {declared}, but ABI 0.2.1 "
                                               f"defines it as {spec.func_type}")
        else:
            functions[imp.name] = spec.bind(plugin)
    return functions


def _stub(plugin: Plugin, name: str, func_type: FuncType) -> HostFunction:
    answers_status = name.startswith("proxy_") and func_type.results[:1] == (I32,)
    results = [_zero(valtype) for valtype in func_type.results]
    if answers_status:
        results[0] = int(Status.UNIMPLEMENTED)

    def stub(*args: Any) -> Any:
        frame = plugin.frame
        context = frame.effective if frame is not None else None
        entry = plugin.host.trace.hostcall(plugin.name, context.id if context else None, name,
                                           {"raw": list(args)})
        entry["status"] = Status.UNIMPLEMENTED.name if answers_status else "STUB"
        return tuple(results) if len(results) != 1 else results[0]

    stub.__name__ = name
    return HostFunction(func_type, stub, name)


def _zero(valtype: ValType) -> Any:
    if valtype in (I32, I64):
        return 0
    if valtype in (F32, F64):
        return 0.0
    return None
