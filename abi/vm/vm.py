"""``PluginVm``: one instance of a plugin module in its own ``Store`` — what
Envoy calls a Wasm VM.  Several plugins may share one (the same ``vm_id``,
code and VM configuration), each with its own root context.

Loading follows proxy-wasm-cpp-host and Envoy:

1. link the imports: ``env`` functions from the ABI (``abi.hostcalls``),
   WASI preview1 under both module names (``abi.vm.wasi``);
2. start the module: ``_initialize`` then ``main(0, 0)`` if exported
   (``main()`` for a main without parameters), else ``_start``.

A trap while starting means the VM failed.  The proxy then creates root
contexts and stream contexts in it; the VM only numbers them (per VM, from 1,
in the order they are created), keeps them by id for
``proxy_set_effective_context``, and runs callbacks.

Every callback runs with a fuel budget (nested allocator calls included), so
a plugin that loops fails with "fuel exhausted" instead of hanging the host.
A trap, fuel running out, call stack exhaustion or ``proc_exit`` fails the
VM, with the wasm backtrace: every plugin in it has failed — Envoy keeps a
failed VM failed until it is reloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from abi.context_interface import ContextInterface
from abi.errors import PluginLoadError
from abi.hostcalls import env_imports
from abi.hostcalls.guest_memory import ALLOCATOR_EXPORTS, GuestMemory
from abi.trace import Trace
from abi.vm.callbacks import CALLBACKS, CallbackOutcome, Failure, error_line, traced_argument, traced_result
from abi.vm.instruments import ExportCall, VmInstrument, run_through
from abi.vm.module import PluginModule
from abi.vm.wasi import wasi_imports
from interp.errors import ExecutionError, GlasswasmError
from interp.exec.host_calls import Caller
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.instance import ModuleInstance
from interp.exec.store import EngineConfig, Store
from interp.syntax.types import I32
from interp.wasi import ProcessExit, SimulatedClock, WasiProcess

@dataclass(frozen=True)
class VmSettings:
    """What a VM is made with besides its module: the engine, WASI's
    environment and random seed."""

    engine: str = "auto"
    environment: tuple[tuple[str, str], ...] = ()
    random_seed: int = 0
    host_work_per_byte: int = 1  # fuel a host call costs per byte it copies


@dataclass(eq=False)
class _Frame:
    """A callback being run: the context it runs for and the effective
    context host calls act on."""

    name: str
    context: ContextInterface
    effective: ContextInterface = field(init=False)

    def __post_init__(self) -> None:
        self.effective = self.context


class PluginVm:
    """See the module docstring.  ``start_context`` is the context host calls
    act on while the module starts (logging and the clock work; streams,
    callouts and the like do not exist yet).  ``instruments`` watch or drive
    the plugin code (``abi.vm.instruments``)."""

    def __init__(self, module: PluginModule, settings: VmSettings, clock: SimulatedClock, trace: Trace,
                 label: str, start_context: ContextInterface, instruments: tuple[VmInstrument, ...] = ()) -> None:
        self.module = module
        self.settings = settings
        self.trace = trace
        self.label = label
        self.start_context = start_context
        self.host_work_per_byte = settings.host_work_per_byte
        self.failure: Failure | None = None
        self.contexts: dict[int, ContextInterface] = {}
        self._next_context_id = 1
        self._next_http_call_token = 1
        self._next_grpc_token = 1
        self._frames: list[_Frame] = []
        self.store = Store(EngineConfig(engine=settings.engine))
        self.instruments = instruments
        self.instance: ModuleInstance | None = None
        self.exports: dict[str, WasmFunction | HostFunction] = {}
        self.allocator_export: str | None = None
        self.wasi_process: WasiProcess | None = None
        self._imports = self._link(clock)
        for instrument in instruments:
            instrument.vm_created(self)

    @property
    def failed(self) -> bool:
        return self.failure is not None

    # --- loading --------------------------------------------------------------------------

    def _link(self, clock: SimulatedClock) -> dict[str, dict[str, Any]]:
        module = self.module.module
        imports: dict[str, dict[str, Any]] = {"env": env_imports(self, module, self.module.plugin)}
        wasi = wasi_imports(self, module, clock)
        if wasi is not None:
            self.wasi_process, wasi_functions = wasi
            imports.update(wasi_functions)
        for imp in module.imports:
            if imp.module not in imports:
                raise PluginLoadError(self.module.plugin, f"imports {imp.module}.{imp.name}, which a proxy-wasm "
                                                          f"host does not provide (only env and WASI preview1)")
            if imp.name not in imports[imp.module]:
                raise PluginLoadError(self.module.plugin, f"imports {imp.module}.{imp.name}, which is not a "
                                                          f"function this host provides")
        return imports

    def start(self, fuel: int | None) -> None:
        """Instantiate the module (running its wasm start function) and run
        its start exports; a trap fails the VM (see ``failure``)."""
        frame = _Frame("instantiate", self.start_context)
        self._frames.append(frame)
        self.store.set_fuel(fuel)
        try:
            instance = self.store.instantiate(self.module.compiled, self._imports, self.label)
        except ExecutionError as error:
            self.fail(self._failure("start", error, self.start_context))
            return
        except GlasswasmError as error:
            raise PluginLoadError(self.module.plugin, error_line(error)) from None
        finally:
            self._frames.pop()
            self.store.set_fuel(None)
        self.instance = instance
        self.exports = {name: value for name, value in instance.exports.items()
                        if isinstance(value, (WasmFunction, HostFunction))}
        self.allocator_export = next((name for name in ALLOCATOR_EXPORTS if name in self.exports), None)
        if "_initialize" in self.exports:
            self.call("_initialize", self.start_context, [], fuel, exit_zero_ends=True)
            main = self.exports.get("main")
            if main is not None and main.type.params in ((), (I32, I32)) and not self.failed:
                self.call("main", self.start_context, [0] * len(main.type.params), fuel, exit_zero_ends=True)
        elif "_start" in self.exports:
            self.call("_start", self.start_context, [], fuel, exit_zero_ends=True)

    # --- contexts -------------------------------------------------------------------------

    def new_context_id(self) -> int:
        context_id = self._next_context_id
        self._next_context_id += 1
        return context_id

    def add_context(self, context: ContextInterface) -> None:
        self.contexts[context.id] = context

    def remove_context(self, context: ContextInterface) -> None:
        self.contexts.pop(context.id, None)

    def next_http_call_token(self) -> int:
        token = self._next_http_call_token
        self._next_http_call_token += 1
        return token

    def next_grpc_token(self, stream: bool) -> int:
        """The next gRPC token: odd for calls, even for streams, from one
        counter per VM (as Envoy numbers them)."""
        token = self._next_grpc_token
        if (token % 2 == 0) != stream:
            token += 1
        self._next_grpc_token = token + 1
        return token

    # --- what host calls need (``abi.hostcalls.CallSite``) -----------------------------------

    @property
    def effective_context(self) -> ContextInterface:
        return self._frames[-1].effective if self._frames else self.start_context

    def switch_effective_context(self, context_id: int) -> ContextInterface | None:
        context = self.contexts.get(context_id)
        if context is None or not self._frames:
            return None
        self._frames[-1].effective = context
        return context

    def guest_memory(self, caller: Caller) -> GuestMemory:
        """The plugin's memory, allocating through its exported allocator
        called back by ``caller`` (in the middle of the host call)."""
        export = self.allocator_export

        def allocate(size: int) -> int:
            return caller.invoke(export, size)[0]

        return GuestMemory(caller.memory, allocate if export is not None else None)

    # --- calling in -------------------------------------------------------------------------

    def exports_callback(self, name: str) -> bool:
        return name in self.exports

    def call(self, name: str, context: ContextInterface, args: Sequence[int], fuel: int | None,
             exit_zero_ends: bool = False) -> CallbackOutcome:
        """Call the exported callback ``name`` for ``context`` (a missing
        export is not called: every callback is optional; a failed VM is
        never called).  ``exit_zero_ends``: ``proc_exit(0)`` is a normal end
        (start functions), not a failure."""
        func = self.exports.get(name)
        if func is None or self.failed:
            return CallbackOutcome(None, called=False)
        signature = CALLBACKS.get(name)
        names = signature.params if signature is not None else tuple(f"arg{i}" for i in range(len(args)))
        context_id = context.id if context is not self.start_context else None
        self.trace.callback(context.plugin_name, context_id, context.stream_name, name,
                            {arg: traced_argument(arg, value) for arg, value in zip(names, args)})
        self._frames.append(_Frame(name, context))
        self.store.set_fuel(fuel)
        try:
            results = run_through(self.instruments, ExportCall(self, name, context, func, tuple(args)),
                                  lambda: self.store.invoke(func, *args))
        except ExecutionError as error:
            if exit_zero_ends and isinstance(error, ProcessExit) and error.code == 0:
                self.trace.callback_return(context.plugin_name, context_id, context.stream_name, name,
                                           result="proc_exit(0)")
                return CallbackOutcome(None)
            failure = self._failure(name, error, context)
            self.fail(failure)
            self.trace.callback_return(context.plugin_name, context_id, context.stream_name, name,
                                       error=failure.error)
            return CallbackOutcome(None, failure)
        finally:
            self._frames.pop()
            self.store.set_fuel(None)
        result = results[0] if results else None
        self.trace.callback_return(context.plugin_name, context_id, context.stream_name, name,
                                   result=traced_result(name, result))
        return CallbackOutcome(result)

    def _failure(self, callback: str, error: ExecutionError, context: ContextInterface) -> Failure:
        lines = tuple(entry.describe() for entry in error.backtrace)
        return Failure(context.plugin_name, callback, error_line(error), lines, context.stream_name)

    def fail(self, failure: Failure) -> None:
        """Mark the VM failed (the first failure is kept)."""
        if self.failure is None:
            self.failure = failure

    def flush_output(self) -> None:
        """Deliver a last unfinished line of the plugin's standard output and
        error."""
        if self.wasi_process is not None:
            self.wasi_process.flush()
