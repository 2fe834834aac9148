"""WASI preview1 for plugins, from ``interp.wasi``, wired the way a
proxy-wasm host wires it (spec v0.2.1 and proxy-wasm-cpp-host):

* standard output lines become ``info`` logs and standard error lines
  ``error`` logs of the effective context (complete lines; an unfinished
  last line when the VM is shut down);
* the clocks read the proxy's one simulated clock (shared with
  ``proxy_get_current_time_nanoseconds``);
* ``random_get`` draws from a generator seeded by the VM's settings;
* the environment is the VM's; there are no arguments (``args_sizes_get``
  answers 0 and 0, as the spec asks) and no files.

Every WASI call is recorded in the trace with its raw arguments and errno.
"""

from __future__ import annotations

from typing import Any, Protocol

from abi.context_interface import ContextInterface
from abi.enums import LogLevel
from abi.errors import HostError, PluginLoadError
from abi.trace import Trace
from interp.errors import GlasswasmError, UsageError
from interp.runtime.function import HostFunction
from interp.syntax.module import Module
from interp.wasi import Errno, OutputSink, SimulatedClock, WasiConfig, WasiProcess, imports_wasi


class WasiHost(Protocol):
    """What the WASI wiring needs from the VM."""

    trace: Trace

    @property
    def effective_context(self) -> ContextInterface: ...

    @property
    def label(self) -> str: ...

    @property
    def settings(self) -> Any: ...


def wasi_imports(vm: WasiHost, module: Module,
                 clock: SimulatedClock) -> tuple[WasiProcess, dict[str, dict[str, HostFunction]]] | None:
    """The VM's WASI process and its functions under both module names, or
    ``None`` when the module imports no WASI."""
    if not imports_wasi(module):
        return None

    def log(level: LogLevel) -> OutputSink:
        return OutputSink.lines(lambda line: vm.effective_context.logging.log(level, line.encode("utf-8")))

    try:
        config = WasiConfig(argv=(), environment=dict(vm.settings.environment), stdout=log(LogLevel.INFO),
                            stderr=log(LogLevel.ERROR), random_seed=vm.settings.random_seed)
    except UsageError as error:
        raise PluginLoadError(vm.label, f"environment: {error}") from None
    process = WasiProcess(config, clock=clock)
    functions = {module_name: {name: _traced(vm, f"{module_name}.{name}", function)
                               for name, function in module_functions.items()}
                 for module_name, module_functions in process.imports().items()}
    return process, functions


def _traced(vm: WasiHost, qualified: str, function: HostFunction) -> HostFunction:
    implementation = function.callable

    def traced(*args: Any) -> Any:
        context = vm.effective_context
        raw = args[1:] if function.takes_caller else args
        entry = vm.trace.begin_hostcall(context.plugin_name, context.id, qualified, {"raw": list(raw)})
        try:
            result = implementation(*args)
        except GlasswasmError:
            raise  # proc_exit, or the guest's own failure
        except Exception as error:
            vm.trace.end_hostcall(entry, "HOST_ERROR")
            raise HostError(f"{qualified} failed in the host: {type(error).__name__}: {error}") from error
        status: object = None
        if isinstance(result, int):
            try:
                status = Errno(result).name
            except ValueError:
                status = result
        vm.trace.end_hostcall(entry, "OK" if status == "SUCCESS" else status)
        return result

    traced.__name__ = qualified
    return HostFunction(function.type, traced, qualified, function.takes_caller)
