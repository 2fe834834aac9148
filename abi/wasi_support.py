"""WASI preview1 for plugins, from ``interp.wasi``, wired the way a
proxy-wasm host wires it (spec v0.2.1 and proxy-wasm-cpp-host):

* standard output lines become ``info`` logs and standard error lines
  ``error`` logs of the plugin (complete lines; an unfinished last line when
  the plugin is shut down);
* the clocks read the proxy's one simulated clock (shared with
  ``proxy_get_current_time_nanoseconds``; see ``abi.host``);
* ``random_get`` draws from a generator seeded with the host's seed plus the
  plugin's position in the chain, so plugins do not share one sequence;
* the environment is the plugin's ``environment`` setting; there are no
  arguments (``args_sizes_get`` answers 0 and 0, as the spec asks) and no
  files.

Every WASI call is recorded in the trace with its raw arguments and errno.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interp.errors import UsageError
from interp.runtime.function import HostFunction
from interp.syntax.module import Module
from interp.wasi import Errno, OutputSink, WasiConfig, WasiProcess, imports_wasi

if TYPE_CHECKING:
    from abi.plugin import Plugin


def wasi_imports(plugin: Plugin, module: Module) -> tuple[WasiProcess, dict[str, dict[str, HostFunction]]] | None:
    """The plugin's WASI process and its functions under both module names,
    or ``None`` when the module imports no WASI."""
    if not imports_wasi(module):
        return None
    from abi.enums import LogLevel
    from abi.errors import PluginLoadError

    host = plugin.host
    try:
        config = WasiConfig(
            argv=(),
            environment=dict(plugin.config.environment),
            stdout=OutputSink.lines(lambda line: plugin.log(LogLevel.INFO, line)),
            stderr=OutputSink.lines(lambda line: plugin.log(LogLevel.ERROR, line)),
            random_seed=host.config.random_seed + plugin.index,
        )
    except UsageError as error:
        raise PluginLoadError(plugin.name, f"environment: {error}") from None
    process = WasiProcess(config, clock=host.clock)
    functions = {module_name: {name: _traced(plugin, f"{module_name}.{name}", function)
                               for name, function in module_functions.items()}
                 for module_name, module_functions in process.imports().items()}
    return process, functions


def _traced(plugin: Plugin, qualified: str, function: HostFunction) -> HostFunction:
    implementation = function.callable

    def traced(*args: Any) -> Any:
        frame = plugin.frame
        context = frame.effective if frame is not None else None
        raw = args[1:] if function.takes_caller else args
        entry = plugin.host.trace.hostcall(plugin.name, context.id if context else None, qualified,
                                           {"raw": list(raw)})
        result = implementation(*args)
        if isinstance(result, int):
            try:
                entry["status"] = Errno(result).name
            except ValueError:
                entry["status"] = result
        else:
            entry["status"] = None
        return result

    traced.__name__ = qualified
    return HostFunction(function.type, traced, qualified, function.takes_caller)
