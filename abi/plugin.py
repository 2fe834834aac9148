"""A plugin: one proxy-wasm module running in its own VM (its own ``Store``).

Loading follows proxy-wasm-cpp-host and Envoy:

1. read and validate the module; find its ABI version from the
   ``proxy_abi_version_0_2_1`` or ``proxy_abi_version_0_2_0`` export (a module
   without one is refused: ``PluginLoadError``), and check that the callbacks
   it exports have the types the ABI gives them;
2. link its imports: ``env`` functions from the host-call table (an ``env``
   function this host does not implement gets a stub of the module's own
   declared type that answers UNIMPLEMENTED, so any plugin instantiates), WASI
   preview1 under both module names from ``interp.wasi``;
3. start it: ``_initialize`` then ``main(0, 0)`` if exported (``main()`` for
   a main without parameters), else ``_start``;
4. create the root context and call ``proxy_on_context_create(root, 0)``,
   ``proxy_on_vm_start(root, vm_configuration_size)`` and
   ``proxy_on_configure(root, plugin_configuration_size)``.

A trap in 3 or 4, or a false answer from ``proxy_on_vm_start`` or
``proxy_on_configure``, means the plugin failed to start: it is recorded as a
``Failure`` and the plugin's failure policy applies to every stream.

Context ids are numbered per VM as in Envoy: the root context is 1, stream
contexts 2, 3, ... in the order streams first reach the plugin.

Every callback runs with a fuel budget (``fuel_per_callback``, default 100
million instructions, nested allocator calls included), so a plugin that
loops fails with "fuel exhausted" instead of hanging the host.  A trap, fuel
running out, call stack exhaustion, ``proc_exit`` or a return value the ABI
does not define marks the plugin failed (with the wasm backtrace); a failed
plugin is never called again — Envoy keeps a failed VM failed.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from abi.enums import AbiVersion, Action, FailurePolicy, LogLevel
from abi.errors import PluginLoadError
from abi.guest_memory import ALLOCATOR_EXPORTS, GuestMemory
from abi.metrics import MetricIds
from abi.records import Failure, LogEntry
from abi.text import as_bytes
from interp.errors import ExecutionError, GlasswasmError
from interp.translate.compiled import CompiledModule, compile_module
from interp.loader import module_from_bytes, read_module
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.instance import ModuleInstance
from abi.trace import InstructionRecorder
from interp.debug.tracing import TracingObserver
from interp.exec.store import EngineConfig, Store
from interp.syntax.module import Module
from interp.syntax.types import I32, ExternKind, FuncType
from interp.wasi import ProcessExit, WasiProcess

if TYPE_CHECKING:
    from abi.host import ProxyHost
    from abi.http_calls import HttpCall, HttpCallResponse
    from abi.stream import FilterSlot
    from interp.exec.machine import Caller

DEFAULT_FUEL_PER_CALLBACK = 100_000_000
ROOT_CONTEXT_ID = 1


class CallbackPhase(enum.Enum):
    """Which kind of callback is running; decides what host functions may
    touch (the plugin configuration only while setting up, read-only maps
    while logging...)."""

    START = "start"
    SETUP = "setup"
    STREAM = "stream"
    HTTP_CALL_RESPONSE = "http_call_response"
    LOG = "log"
    TEARDOWN = "teardown"


@dataclass(frozen=True)
class CallbackSignature:
    params: tuple[str, ...]
    returns: bool
    kind: str = "none"  # what the result means: "action", "bool", "pointer", "none"

    @property
    def func_type(self) -> FuncType:
        return FuncType(tuple(I32 for _ in self.params), (I32,) if self.returns else ())


CALLBACKS: dict[str, CallbackSignature] = {
    "_initialize": CallbackSignature((), False),
    "_start": CallbackSignature((), False),
    "proxy_on_memory_allocate": CallbackSignature(("size",), True, "pointer"),
    "malloc": CallbackSignature(("size",), True, "pointer"),
    "proxy_on_context_create": CallbackSignature(("context_id", "parent_context_id"), False),
    "proxy_on_vm_start": CallbackSignature(("context_id", "vm_configuration_size"), True, "bool"),
    "proxy_on_configure": CallbackSignature(("context_id", "plugin_configuration_size"), True, "bool"),
    "proxy_on_request_headers": CallbackSignature(("context_id", "num_headers", "end_of_stream"), True, "action"),
    "proxy_on_request_body": CallbackSignature(("context_id", "body_size", "end_of_stream"), True, "action"),
    "proxy_on_request_trailers": CallbackSignature(("context_id", "num_trailers"), True, "action"),
    "proxy_on_response_headers": CallbackSignature(("context_id", "num_headers", "end_of_stream"), True, "action"),
    "proxy_on_response_body": CallbackSignature(("context_id", "body_size", "end_of_stream"), True, "action"),
    "proxy_on_response_trailers": CallbackSignature(("context_id", "num_trailers"), True, "action"),
    "proxy_on_log": CallbackSignature(("context_id",), False),
    "proxy_on_done": CallbackSignature(("context_id",), True, "bool"),
    "proxy_on_delete": CallbackSignature(("context_id",), False),
    "proxy_on_http_call_response": CallbackSignature(
        ("context_id", "token", "num_headers", "body_size", "num_trailers"), False),
}
"""The callbacks this host calls, with the types ABI 0.2.x gives them."""

ACTION_CALLBACK_RESULTS = {
    "headers": {0: Action.CONTINUE, 1: Action.PAUSE, 2: Action.CONTINUE, 3: Action.PAUSE, 4: Action.PAUSE},
    "body": {0: Action.CONTINUE, 1: Action.PAUSE, 2: Action.PAUSE, 3: Action.PAUSE},
    "trailers": {0: Action.CONTINUE, 1: Action.PAUSE},
}
"""What stream callbacks may answer.  The spec says CONTINUE (0) or PAUSE
(1); the C++ SDK's wider enums are accepted as Envoy maps them: for headers
StopIteration, StopAllIterationAndBuffer and StopAllIterationAndWatermark all
pause everything, and ContinueAndEndStream continues; for bodies the three
StopIteration variants pause and buffer.  Anything else is a bad return:
the plugin fails."""


@dataclass(frozen=True)
class PluginConfig:
    """How to run one plugin.

    ``wasm`` is a path (``.wasm`` or ``.wat``), the module's bytes or a decoded
    ``Module``.  ``configuration`` and ``vm_configuration`` are given as text or
    bytes, or as a mapping or list sent as compact JSON text (keys in the
    given order), as Envoy hands a plugin its configuration.  ``environment``
    is what WASI's ``environ_get`` shows.  ``fuel_per_callback`` of ``None``
    means unlimited.  ``label`` names the module in reports (scenarios give
    the path as written in the file, so reports do not depend on where the
    files are).
    """

    name: str
    wasm: str | os.PathLike[str] | bytes | Module | CompiledModule
    root_id: str = ""
    vm_id: str = ""
    configuration: Any = b""
    vm_configuration: Any = b""
    environment: Mapping[str, str] = field(default_factory=dict)
    failure_policy: FailurePolicy = FailurePolicy.FAIL_CLOSE
    fuel_per_callback: int | None = DEFAULT_FUEL_PER_CALLBACK
    label: str = ""

    @property
    def configuration_bytes(self) -> bytes:
        return configuration_bytes(self.configuration)

    @property
    def vm_configuration_bytes(self) -> bytes:
        return configuration_bytes(self.vm_configuration)

    @property
    def wasm_label(self) -> str:
        """How reports name the module: ``label``, else the path."""
        if self.label:
            return self.label
        if isinstance(self.wasm, (str, os.PathLike)):
            return os.fspath(self.wasm)
        return f"<{type(self.wasm).__name__}>"


def configuration_bytes(value: Any) -> bytes:
    """A configuration as the plugin reads it from its buffer."""
    if value is None:
        return b""
    if isinstance(value, (str, bytes, bytearray)):
        return as_bytes(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(eq=False)
class Context:
    """A context of one plugin: the root context (``slot`` is ``None``) or
    the context of one stream (``slot`` is that plugin's place in the
    stream's filter chain)."""

    id: int
    plugin: Plugin
    slot: FilterSlot | None = None

    @property
    def is_root(self) -> bool:
        return self.slot is None

    @property
    def stream_name(self) -> str | None:
        return self.slot.stream.name if self.slot is not None else None


@dataclass(eq=False)
class CallbackFrame:
    """The callback a plugin is running: for which context, which context host
    calls act on now (``proxy_set_effective_context`` changes it), the HTTP
    call response being delivered, what ``proxy_get_status`` answers, and the
    actions that take effect when the callback returns."""

    name: str
    context: Context | None
    phase: CallbackPhase
    effective: Context | None = None
    http_response: HttpCallResponse | None = None
    answering: HttpCall | None = None
    call_status: tuple[int, str] = (0, "")
    deferred: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.effective is None:
            self.effective = self.context


@dataclass(frozen=True)
class CallbackOutcome:
    """How a callback ended: its raw result (``None`` for no result or a
    failure), the failure if it failed, and its deferred actions."""

    result: int | None
    failure: Failure | None
    deferred: tuple[Callable[[], None], ...] = ()

    @property
    def failed(self) -> bool:
        return self.failure is not None


class Plugin:
    """A loaded plugin (see the module docstring).  Construct through
    ``ProxyHost.load_plugin``."""

    def __init__(self, host: ProxyHost, config: PluginConfig, index: int) -> None:
        self.host = host
        self.config = config
        self.name = config.name
        self.index = index
        self.failure: Failure | None = None
        self.frame: CallbackFrame | None = None
        self.metric_ids = MetricIds(host.metrics)
        self.contexts: dict[int, Context] = {}
        self.next_context_id = ROOT_CONTEXT_ID
        self.next_http_call_token = 1
        self.root_context: Context | None = None
        self.root_done_pending = False
        self.wasi_process: WasiProcess | None = None
        self.instance: ModuleInstance | None = None
        compiled = self._compile()
        self.abi_version = self._abi_version(compiled.module)
        self._check_callback_types(compiled.module)
        self.store = Store(EngineConfig(engine=host.config.engine))
        if host.config.trace_instructions:
            self.store.observe(TracingObserver(InstructionRecorder(host.trace, self.name)))
        self.exports: dict[str, WasmFunction | HostFunction] = {}
        self.allocator_export: str | None = None
        self._instantiate(compiled)

    # --- loading -----------------------------------------------------------------------

    def _compile(self) -> CompiledModule:
        wasm = self.config.wasm
        try:
            if isinstance(wasm, CompiledModule):
                return wasm
            if isinstance(wasm, Module):
                return compile_module(wasm)
            if isinstance(wasm, (bytes, bytearray)):
                return compile_module(module_from_bytes(bytes(wasm)))
            return compile_module(read_module(wasm))
        except GlasswasmError as error:
            raise PluginLoadError(self.name, f"{self.config.wasm_label}: {_error_line(error)}") from None

    def _abi_version(self, module: Module) -> AbiVersion:
        exported = {export.name for export in module.exports if export.kind is ExternKind.FUNC}
        for version in sorted(AbiVersion, key=lambda v: v.value, reverse=True):
            if version.marker in exported:
                return version
        others = sorted(name for name in exported if name.startswith("proxy_abi_version_"))
        supported = " or ".join(v.marker for v in AbiVersion)
        if others:
            raise PluginLoadError(self.name, f"exports {', '.join(others)}; this host runs ABI 0.2.0 and "
                                             f"0.2.1 only ({supported})")
        raise PluginLoadError(self.name, f"not a proxy-wasm plugin: it exports no ABI version marker "
                                         f"({supported})")

    def _check_callback_types(self, module: Module) -> None:
        func_types = _function_types(module)
        for export in module.exports:
            signature = CALLBACKS.get(export.name)
            if export.kind is not ExternKind.FUNC or signature is None:
                continue
            actual = func_types[export.index]
            if actual != signature.func_type:
                raise PluginLoadError(self.name, f"export {export.name} has type {actual}, ABI "
                                                 f"{self.abi_version.value} gives it {signature.func_type}")

    def _instantiate(self, compiled: CompiledModule) -> None:
        from abi.hostcalls import env_imports
        from abi.wasi_support import wasi_imports

        imports: dict[str, dict[str, Any]] = {"env": env_imports(self, compiled.module)}
        wasi = wasi_imports(self, compiled.module)
        if wasi is not None:
            self.wasi_process, wasi_functions = wasi
            imports.update(wasi_functions)
        for imp in compiled.module.imports:
            if imp.module not in imports:
                raise PluginLoadError(self.name, f"imports {imp.module}.{imp.name}, which a proxy-wasm host "
                                                 f"does not provide (only env and WASI preview1)")
            if imp.name not in imports[imp.module]:
                raise PluginLoadError(self.name, f"imports {imp.module}.{imp.name}, which is not a function "
                                                 f"this host provides")
        self.frame = CallbackFrame("instantiate", None, CallbackPhase.START)
        self.store.set_fuel(self.config.fuel_per_callback)
        try:
            self.instance = self.store.instantiate(compiled, imports, self.name)
        except ExecutionError as error:
            self.instance = None
            self.fail("start", _error_line(error), error.backtrace, None)
            return
        except GlasswasmError as error:
            raise PluginLoadError(self.name, _error_line(error)) from None
        finally:
            self.frame = None
            self.store.set_fuel(None)
        self.exports = {name: value for name, value in self.instance.exports.items()
                        if isinstance(value, (WasmFunction, HostFunction))}
        self.allocator_export = next((name for name in ALLOCATOR_EXPORTS if name in self.exports), None)

    # --- starting ----------------------------------------------------------------------

    def start(self) -> None:
        """Run the module's start functions and set up the root context (see
        the module docstring); failures are recorded, not raised."""
        if "_initialize" in self.exports:
            self._run_start_function("_initialize")
            main = self.exports.get("main")
            if main is not None and main.type.params in ((), (I32, I32)) and not self.failed:
                self._run_start_function("main", *([0] * len(main.type.params)))
        elif "_start" in self.exports:
            self._run_start_function("_start")
        if self.failed:
            return
        root = self.new_context(None)
        self.root_context = root
        self.call("proxy_on_context_create", root, [root.id, 0], CallbackPhase.SETUP)
        for callback, size in (("proxy_on_vm_start", len(self.config.vm_configuration_bytes)),
                               ("proxy_on_configure", len(self.config.configuration_bytes))):
            if self.failed:
                return
            outcome = self.call(callback, root, [root.id, size], CallbackPhase.SETUP)
            if not outcome.failed and outcome.result == 0:
                self.fail(callback, "returned false: the plugin rejected its configuration", (), None)

    def _run_start_function(self, name: str, *args: int) -> None:
        if self.failed:
            return
        self.call(name, None, list(args), CallbackPhase.START)

    # --- contexts ----------------------------------------------------------------------

    def new_context(self, slot: FilterSlot | None) -> Context:
        context_id = self.next_context_id
        self.next_context_id += 1
        context = Context(context_id, self, slot)
        self.contexts[context_id] = context
        return context

    def forget_context(self, context: Context) -> None:
        self.contexts.pop(context.id, None)

    # --- calling in ----------------------------------------------------------------------

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def exports_callback(self, name: str) -> bool:
        return name in self.exports

    def call(self, name: str, context: Context | None, args: list[int], phase: CallbackPhase,
             http_response: HttpCallResponse | None = None, call_status: tuple[int, str] = (0, ""),
             answering: HttpCall | None = None) -> CallbackOutcome:
        """Call the exported callback ``name`` (a missing export is simply not
        called: every callback is optional).  The host's deferred work is not
        done here: callers settle the outcome once they have recorded its
        result."""
        func = self.exports.get(name)
        if func is None or self.failed:
            return CallbackOutcome(None, None)
        host = self.host
        host.advance_clock_for_callback()
        frame = CallbackFrame(name, context, phase, http_response=http_response, answering=answering,
                              call_status=call_status)
        signature = CALLBACKS.get(name)
        names = signature.params if signature is not None else tuple(f"arg{i}" for i in range(len(args)))
        entry = host.trace.callback(self.name, context.id if context else None,
                                    context.stream_name if context else None, name,
                                    {arg: _traced_argument(arg, value) for arg, value in zip(names, args)})
        self.frame = frame
        self.store.set_fuel(self.config.fuel_per_callback)
        try:
            results = self.store.invoke(func, *args)
        except ExecutionError as error:
            if phase is CallbackPhase.START and isinstance(error, ProcessExit) and error.code == 0:
                entry["result"] = "proc_exit(0)"
                return CallbackOutcome(None, None)
            failure = self.fail(name, _error_line(error), error.backtrace, context)
            entry["error"] = failure.error
            return CallbackOutcome(None, failure)
        finally:
            self.frame = None
            self.store.set_fuel(None)
        result = results[0] if results else None
        entry["result"] = _traced_result(signature, name, result)
        return CallbackOutcome(result, None, tuple(frame.deferred))

    def action_of(self, name: str, context: Context, outcome: CallbackOutcome) -> Action | None:
        """The action a stream callback answered, or ``None`` if it failed —
        including by answering a number that is no action, which fails the
        plugin here.  A callback the plugin does not export continues."""
        if outcome.failed:
            return None
        if outcome.result is None:
            return Action.CONTINUE
        kind = name.rsplit("_", 1)[1]
        action = ACTION_CALLBACK_RESULTS[kind].get(outcome.result)
        if action is None:
            self.fail(name, f"returned {outcome.result}, which is not an action (0 CONTINUE or 1 PAUSE)", (),
                      context)
        return action

    def fail(self, callback: str, error: str, backtrace: tuple[Any, ...], context: Context | None) -> Failure:
        """Mark the plugin failed (once; later failures cannot happen since a
        failed plugin is never called again)."""
        lines = tuple(entry.describe() if hasattr(entry, "describe") else str(entry) for entry in backtrace)
        failure = Failure(self.name, callback, error, lines, context.stream_name if context else None)
        if self.failure is None:
            self.failure = failure
        self.host.record_failure(failure)
        return failure

    # --- services for host functions ------------------------------------------------------

    def guest_memory(self, caller: Caller) -> GuestMemory:
        """The plugin's memory, allocating through its exported allocator
        called back by ``caller`` (in the middle of the host call)."""
        export = self.allocator_export

        def allocate(size: int) -> int:
            return caller.invoke(export, size)[0]

        return GuestMemory(caller.memory, allocate if export is not None else None)

    def log(self, level: LogLevel, message: str) -> None:
        """A log line from the plugin, attributed to the effective context."""
        context = self.frame.effective if self.frame is not None else None
        self.host.record_log(LogEntry(self.name, level, message, context.stream_name if context else None,
                                      context.id if context else None))

    def flush_output(self) -> None:
        if self.wasi_process is not None:
            self.wasi_process.flush()


def _function_types(module: Module) -> list[FuncType]:
    types = [module.types[imp.desc] for imp in module.imports if isinstance(imp.desc, int)]
    types.extend(module.types[func.type_index] for func in module.funcs)
    return types


def _error_line(error: GlasswasmError) -> str:

    label = "proc_exit" if isinstance(error, ProcessExit) else error.label
    return f"{label}: {error}"


def _traced_argument(name: str, value: int) -> Any:
    return bool(value) if name == "end_of_stream" else value


def _traced_result(signature: CallbackSignature | None, name: str, result: int | None) -> Any:
    if signature is None or result is None:
        return result
    if signature.kind == "bool":
        return bool(result)
    if signature.kind == "action":
        kind = name.rsplit("_", 1)[1]
        action = ACTION_CALLBACK_RESULTS[kind].get(result)
        return action.name if action is not None and result in (0, 1) else result
    return result
