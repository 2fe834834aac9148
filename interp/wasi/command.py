"""Running WASI modules: commands (``_start``) and reactors (``_initialize``)."""

from __future__ import annotations

from interp.errors import UnlinkableError
from interp.translate.compiled import CompiledModule
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.instance import ModuleInstance
from interp.exec.store import Store
from interp.syntax.module import Module
from interp.syntax.types import I64
from interp.wasi.constants import WASI_MODULE_NAMES
from interp.wasi.preview1 import ProcessExit, WasiProcess

COMMAND_ENTRY = "_start"
REACTOR_INITIALIZER = "_initialize"


def imports_wasi(module: Module | CompiledModule) -> bool:
    """Whether ``module`` imports anything from either WASI module name."""
    if isinstance(module, CompiledModule):
        module = module.module
    return any(imp.module in WASI_MODULE_NAMES for imp in module.imports)


def check_wasi_memory(module: Module | CompiledModule) -> None:
    """WASI preview1 passes 32-bit pointers into memory 0, so a module whose
    memory 0 is 64-bit (memory64) cannot use it: ``UnlinkableError``."""
    if isinstance(module, CompiledModule):
        module = module.module
    memories = module.memory_types()
    if memories and memories[0].address is I64:
        raise UnlinkableError("WASI preview1 passes 32-bit pointers into memory 0, but this module's memory 0 "
                              "is 64-bit (memory64)")


def exports_function(instance: ModuleInstance, name: str) -> bool:
    return isinstance(instance.exports.get(name), (WasmFunction, HostFunction))


def run_command(store: Store, instance: ModuleInstance, process: WasiProcess) -> int:
    """Call a command's ``_start``; its exit status: the code it gave
    ``proc_exit``, or 0 when ``_start`` returns.  Traps and other errors
    propagate.  Unfinished output lines are flushed either way."""
    check_wasi_memory(instance.module)
    try:
        store.invoke(instance.exported_function(COMMAND_ENTRY))
    except ProcessExit as exit:
        return exit.code
    finally:
        process.flush()
    return 0


def initialize_reactor(store: Store, instance: ModuleInstance) -> None:
    """Call a reactor's ``_initialize`` if it exports one (the WASI
    convention: once, before any other export).  ``ProcessExit`` from it
    propagates, as from any call."""
    check_wasi_memory(instance.module)
    if exports_function(instance, REACTOR_INITIALIZER):
        store.invoke(instance.exported_function(REACTOR_INITIALIZER))
