"""Focused instruction traces: ``--trace-instructions PLUGIN`` or
``PLUGIN!FUNCTION`` (repeatable) adds what the chosen plugins' code does to
the proxy's trace — every instruction, call, memory access — and nothing
of the others.

A VM is moved onto the step machine (the engine's tracer runs there) the
first time one of its chosen plugins is called; VMs with no chosen plugin
keep running on the default engine at full speed.  In a VM several plugins
share, only the callbacks of the chosen ones are traced.  ``PLUGIN!FUNCTION``
traces only inside that function (calls of it, and its instructions), as
``glasswasm trace --function`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from abi.debug.catalog import PluginCatalog
from abi.errors import UsageError
from abi.trace import InstructionRecorder, Trace
from abi.vm.instruments import ExportCall, VmInstrument
from abi.vm.vm import PluginVm
from interp.debug.tracing import TracingObserver
from interp.exec.machine import Invocation

ALL_FUNCTIONS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TraceSelector:
    """What one ``--trace-instructions`` names: a plugin, and optionally one
    of its functions."""

    plugin: str
    function: str | None = None

    @staticmethod
    def parse(text: str) -> TraceSelector:
        plugin, bang, function = text.partition("!")
        if not plugin or (bang and not function):
            raise UsageError(f"--trace-instructions takes PLUGIN or PLUGIN!FUNCTION, not {text!r}")
        return TraceSelector(plugin, function or None)


def resolve_selectors(selectors: Iterable[TraceSelector], catalog: PluginCatalog) -> dict[str, frozenset[str]]:
    """Per chosen plugin, the functions to trace (empty: all of them);
    unknown plugins and functions are a ``UsageError``."""
    chosen: dict[str, set[str] | None] = {}
    for selector in selectors:
        catalog.module(selector.plugin)
        if selector.function is None:
            chosen[selector.plugin] = None
        else:
            function = catalog.function(selector.plugin, selector.function)
            functions = chosen.setdefault(selector.plugin, set())
            if functions is not None:
                functions.add(function)
    return {plugin: frozenset(functions or ()) for plugin, functions in chosen.items()}


class _Gate:
    """A VM store's observer: the engine's tracer for the chosen plugins'
    calls, a plain run on the step machine for the others."""

    def __init__(self, tracing: TracingObserver) -> None:
        self.tracing = tracing
        self.active = False

    def run(self, invocation: Invocation) -> None:
        if self.active:
            self.tracing.run(invocation)
        else:
            invocation.run()


class InstructionTracing(VmInstrument):
    """Adds the chosen plugins' instruction-level events to ``trace``
    (``plugins``: from ``resolve_selectors``)."""

    def __init__(self, trace: Trace, plugins: dict[str, frozenset[str]]) -> None:
        self.trace = trace
        self.plugins = plugins
        self._gates: dict[PluginVm, tuple[_Gate, InstructionRecorder]] = {}

    def invoke(self, call: ExportCall, proceed: Callable[[], list]) -> list:
        functions = self.plugins.get(call.plugin)
        if functions is None:
            gate = self._gates.get(call.vm)
            return proceed() if gate is None else self._run(gate[0], False, proceed)
        gate, recorder = self._gate(call.vm)
        recorder.plugin = call.plugin
        gate.tracing.functions = functions
        return self._run(gate, True, proceed)

    @staticmethod
    def _run(gate: _Gate, active: bool, proceed: Callable[[], list]) -> list:
        gate.active = active
        try:
            return proceed()
        finally:
            gate.active = False

    def _gate(self, vm: PluginVm) -> tuple[_Gate, InstructionRecorder]:
        found = self._gates.get(vm)
        if found is None:
            if vm.store.observer is not None:
                raise UsageError(f"the VM of {vm.label} is already observed (profiled or debugged): trace its "
                                 f"instructions in a run of their own")
            recorder = InstructionRecorder(self.trace, vm.label)
            gate = _Gate(TracingObserver(recorder))
            vm.store.observe(gate)
            found = self._gates[vm] = (gate, recorder)
        return found
