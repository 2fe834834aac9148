"""Running a callback into a plugin, the one way the simulated proxy calls
plugin code.

``CallbackRunner.run`` moves the clock one callback step, calls the export
in the plugin's VM, then applies the actions the plugin asked for during the
callback (continue, local reply, close, timers ...), which take effect when
the callback returns as in Envoy (``DeferAfterCallActions``).  Those actions
only change the proxy's state and schedule work; they never call a plugin
themselves, so callbacks never nest.  A failure is recorded, once, for the
report.

While a callout's answer or a foreign-function call is delivered, the root
context that receives it holds a ``CalloutDelivery``: what the answer's maps
and buffers read as, and what ``proxy_get_status`` says, from any context of
that plugin (Envoy reads them through ``rootContext()``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from abi.context_interface import ContextInterface
from abi.proxy.headers import HeaderMap
from abi.proxy.scheduler import Scheduler
from abi.vm.callbacks import CallbackOutcome, Failure
from abi.vm.vm import PluginVm


class CallbackTarget(Protocol):
    """A plugin as the runner sees it."""

    name: str

    @property
    def vm(self) -> PluginVm: ...

    @property
    def failed(self) -> bool: ...

    @property
    def fuel_per_callback(self) -> int | None: ...


@dataclass
class CalloutDelivery:
    """What a root context is being given by the callback now running: an
    HTTP call's response, a gRPC answer's metadata or message, the arguments
    of a foreign function, and the status ``proxy_get_status`` answers."""

    http_headers: HeaderMap | None = None
    http_body: bytes | None = None
    http_trailers: HeaderMap | None = None
    grpc_initial_metadata: HeaderMap | None = None
    grpc_trailing_metadata: HeaderMap | None = None
    grpc_message: bytes | None = None
    foreign_arguments: bytes | None = None
    status: tuple[int, bytes] = (0, b"")


class DeliveryTarget(Protocol):
    """A root context as a callout answer reaches it."""

    id: int
    plugin: CallbackTarget
    delivery: CalloutDelivery | None


@dataclass
class _Run:
    deferred: list[Callable[[], None]] = field(default_factory=list)


class CallbackRunner:
    """See the module docstring.  ``record_failure`` is told about every
    plugin failure."""

    def __init__(self, scheduler: Scheduler, record_failure: Callable[[Failure], None]) -> None:
        self.scheduler = scheduler
        self.record_failure = record_failure
        self._runs: list[_Run] = []

    def run(self, plugin: CallbackTarget, context: ContextInterface, name: str,
            args: Sequence[int]) -> CallbackOutcome:
        """Call ``name`` for ``context``; a failed plugin, or a callback the
        plugin does not export, is not called (``outcome.called`` is false)."""
        vm = plugin.vm
        if plugin.failed or not vm.exports_callback(name):
            return CallbackOutcome(None, called=False)
        self.scheduler.step_for_callback()
        self._runs.append(_Run())
        try:
            outcome = vm.call(name, context, args, plugin.fuel_per_callback)
        finally:
            run = self._runs.pop()
        for action in run.deferred:
            action()
        if outcome.failure is not None:
            self.record_failure(outcome.failure)
        return outcome

    def deliver(self, root: DeliveryTarget, delivery: CalloutDelivery, name: str,
                args: Sequence[int]) -> CallbackOutcome:
        """Run ``name`` on ``root`` with ``delivery`` readable meanwhile."""
        root.delivery = delivery
        try:
            return self.run(root.plugin, root, name, [root.id, *args])  # type: ignore[arg-type]
        finally:
            root.delivery = None

    def fail(self, plugin: CallbackTarget, failure: Failure) -> None:
        """A failure the proxy found (a callback answered something the ABI
        does not define): the VM has failed."""
        plugin.vm.fail(failure)
        self.record_failure(failure)

    @property
    def in_callback(self) -> bool:
        return bool(self._runs)

    def when_callback_returns(self, action: Callable[[], None]) -> None:
        """Apply ``action`` when the running callback returns (at once when
        none runs: the Python API acting from outside)."""
        if self._runs:
            self._runs[-1].deferred.append(action)
        else:
            action()
