"""The extension point for tools that watch or drive plugin code: focused
instruction traces, the profiler, the debugger, the HTML report's recorder
(``abi.debug``).

A ``VmInstrument`` is told about every VM as it is made, before its module
starts (so it can observe the VM's store), and every call into plugin code
(callbacks, start functions) passes through it: ``invoke(call, proceed)``
runs the call — usually by calling ``proceed()``, which runs it on the
VM's store (or hands it to the next instrument), with something before and
after; the debugger runs it itself, paused between instructions.  A host
has a chain of instruments, the first one outermost; the chain changes
nothing the plugin sees, so a run with instruments gives the same results
as one without.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from abi.context_interface import ContextInterface
from interp.runtime.function import HostFunction, WasmFunction

if TYPE_CHECKING:  # the VM imports this module: only for the types
    from abi.vm.vm import PluginVm


@dataclass(frozen=True)
class ExportCall:
    """One call into plugin code: the export ``name`` of ``vm`` with
    ``args``, for ``context`` (the VM's start context while it starts)."""

    vm: PluginVm
    name: str
    context: ContextInterface
    func: WasmFunction | HostFunction
    args: tuple[int, ...]

    @property
    def plugin(self) -> str:
        """The plugin whose context the call is for (in a shared VM, one of several)."""
        return self.context.plugin_name

    @property
    def stream(self) -> str | None:
        return self.context.stream_name


class VmInstrument:
    """Watches or drives plugin code (module docstring); the defaults do nothing."""

    def vm_created(self, vm: PluginVm) -> None:
        """``vm`` was made; its module has not started yet."""

    def invoke(self, call: ExportCall, proceed: Callable[[], list]) -> list:
        """Run ``call`` and return its results; an ``ExecutionError`` it
        raises fails the plugin as usual."""
        return proceed()


def run_through(instruments: Sequence[VmInstrument], call: ExportCall, run: Callable[[], list]) -> list:
    """Run ``call`` through ``instruments`` (the first outermost), ``run``
    innermost."""
    if not instruments:
        return run()
    first, rest = instruments[0], instruments[1:]
    return first.invoke(call, lambda: run_through(rest, call, run))

