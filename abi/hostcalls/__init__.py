"""The ABI: the ``env`` host functions of proxy-wasm 0.2.1 (and the 0.1.0
ones Envoy still serves), one module per area, and the import resolution
they drive.

A host function decodes the guest's pointers, sizes and enums, then calls
the effective context's interface for its area (``abi.context_interface``);
the proxy behind the interfaces never sees guest memory.

Every ``env`` function a plugin imports is resolved here: a proxy-wasm
function must have the ABI's type; ``emscripten_notify_memory_growth``
(imported by emscripten-built plugins) is a no-op, as in
proxy-wasm-cpp-host; any other ``env`` import makes the module unloadable,
as it is in Envoy (a missing import fails linking).
"""

from __future__ import annotations

from abi.errors import PluginLoadError
from abi.hostcalls import (  # noqa: F401  (each module registers its functions)
    buffers,
    foreign_functions,
    grpc_calls,
    header_maps,
    http_calls,
    logging,
    metrics,
    properties,
    shared_data,
    shared_queues,
    stream_control,
    timers,
)
from abi.hostcalls.declaration import HOST_CALLS, CallSite
from interp.runtime.function import HostFunction
from interp.syntax.module import Module
from interp.syntax.types import FuncType

__all__ = ["HOST_CALLS", "CallSite", "env_imports"]

NO_OP_IMPORTS = {"emscripten_notify_memory_growth"}


def env_imports(site: CallSite, module: Module, plugin_name: str) -> dict[str, HostFunction]:
    """The functions for every ``env`` import of ``module``, bound to the VM
    ``site``; ``PluginLoadError`` for an import this host cannot satisfy."""
    functions: dict[str, HostFunction] = {}
    for imp in module.imports:
        if imp.module != "env":
            continue
        if not isinstance(imp.desc, int):
            raise PluginLoadError(plugin_name, f"imports env.{imp.name} as a {type(imp.desc).__name__}; "
                                               f"a proxy-wasm host provides only functions")
        declared = module.types[imp.desc]
        spec = HOST_CALLS.get(imp.name)
        if spec is not None:
            if declared != spec.func_type:
                raise PluginLoadError(plugin_name, f"imports env.{imp.name} with type {declared}, but ABI "
                                                   f"0.2.1 defines it as {spec.func_type}")
            functions[imp.name] = spec.bind(site)
        elif imp.name in NO_OP_IMPORTS and declared == FuncType(declared.params, ()):
            functions[imp.name] = HostFunction(declared, lambda *args: None, imp.name)
        else:
            raise PluginLoadError(plugin_name, f"imports env.{imp.name}, which is not a proxy-wasm host "
                                               f"function (ABI 0.2.1)")
    return functions
