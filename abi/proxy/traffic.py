"""What an HTTP stream and a TCP connection have in common: the plugins'
places along the way, moving one callback at a time on the scheduler, the
contexts plugins see there, and how the end is reached.

* A piece of traffic moves in steps (``_next_step`` says what comes next):
  the scheduler runs one step per task until a plugin has been called, then
  schedules the rest after the work that callback caused.  When nothing can
  move and the traffic is over, its end-of-life callbacks run one per step.
* ``settle`` runs the proxy until the traffic is done, or until it cannot
  move: nothing scheduled could move it any more, or it has made no progress
  for the host's ``stall_after_ms`` of simulated time.
* Each plugin's context in it (``TrafficContext``) shares its root
  context's timer, queues and callout answers, and reaches the traffic's
  properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from abi.context_interface import Pairs
from abi.enums import Action
from abi.errors import UsageError
from abi.proxy.contexts import BufferAccess, HeaderMapAccess, NotWaitingForDone, PluginCallouts, ProxyContext
from abi.proxy.plugins import Plugin
from abi.proxy.properties import PropertyLayer, PropertyPath
from abi.proxy.services import ProxyServices
from abi.vm.callbacks import ACTION_RESULTS, CallbackOutcome, Failure, action_kind

NS_PER_MS = 1_000_000
NO_ROUTE_CACHE = "nothing: the simulated proxy has no route cache"


class Slot(Protocol):
    """A plugin's place in a piece of traffic."""

    plugin: Plugin
    context: TrafficContext | None


class TrafficControl:
    """The parts of ``abi.context_interface.StreamControl`` every kind of
    traffic shares: actions take effect when the callback returns."""

    def __init__(self, services: ProxyServices) -> None:
        self.services = services

    def _defer(self, action: Callable[[], None]) -> None:
        self.services.runner.when_callback_returns(action)

    def send_local_response(self, status: int, details: bytes, body: bytes, headers: Pairs,
                            grpc_status: int | None) -> str:
        return "nothing: a TCP connection has no HTTP response"

    def clear_route_cache(self) -> str:
        return NO_ROUTE_CACHE


class TrafficContext(ProxyContext):
    """The context of one plugin in one stream or connection."""

    def __init__(self, slot: Slot, traffic: Traffic, headers: HeaderMapAccess, buffers: BufferAccess,
                 control: TrafficControl) -> None:
        plugin = slot.plugin
        root = plugin.root
        if root is None:
            raise UsageError(f"internal: plugin {plugin.name} has no root context")
        super().__init__(plugin.vm.new_context_id(), plugin.name, traffic.name, traffic.services,
                         plugin.record.metrics, plugin.record.vm_id, plugin.property_values(), traffic)
        self.slot = slot
        self.headers = headers
        self.buffers = buffers
        self.stream = control
        self.lifecycle = NotWaitingForDone()
        self.timers = root.timers
        self.shared_queues = root.shared_queues
        callouts = PluginCallouts(traffic.services, root, self)
        self.http_calls = callouts
        self.grpc_calls = callouts
        self.callout_status = callouts


class Traffic:
    """A stream or connection through a chain of plugins (module docstring).
    Subclasses say what moves next (``_next_step``), when it is over
    (``_ended``), and what its end of life runs (``_end_lifecycle``)."""

    slots: list[Any]

    def __init__(self, services: ProxyServices, name: str, connection_id: int, plugins: list[Plugin],
                 properties: dict[PropertyPath, Any], on_end: Callable[[Any], None]) -> None:
        self.services = services
        self.name = name
        self.connection_id = connection_id
        self.scenario_properties = properties
        self.plugin_properties: dict[PropertyPath, bytes] = {}
        self.on_end = on_end
        for plugin in plugins:
            plugin.open_streams += 1
        self.last_progress_ns = services.scheduler.now_ns
        self.completed = False
        self._ended = False
        self._pump_scheduled = False
        self._lifecycle: Iterator[None] | None = None

    # --- properties (``abi.proxy.properties.PropertyScope``) ---------------------------------

    def property_layers(self) -> list[PropertyLayer]:
        return [self.plugin_properties, self.scenario_properties]

    def set_property(self, path: PropertyPath, value: bytes) -> None:
        self.plugin_properties[path] = value

    # --- moving ------------------------------------------------------------------------------

    def progressed(self) -> None:
        self.last_progress_ns = self.services.scheduler.now_ns

    def schedule_pump(self) -> None:
        """Have the scheduler move this traffic on (once, however often asked)."""
        if not self._pump_scheduled and not self.completed:
            self._pump_scheduled = True
            self.services.scheduler.soon(self._pump, f"{type(self).__name__} {self.name}")

    def _pump(self) -> None:
        self._pump_scheduled = False
        while not self.completed:
            if self._lifecycle is not None:
                if next(self._lifecycle, StopIteration) is StopIteration:
                    self._lifecycle = None
                else:
                    self.schedule_pump()
                return
            step = self._next_step()
            if step is None:
                if self._ended:
                    self._lifecycle = self._lifecycle_then_release()
                    continue
                return
            self.progressed()
            if step():
                self.schedule_pump()
                return

    def _next_step(self) -> Callable[[], bool] | None:
        """What moves next (a step answers whether it called a plugin), or
        ``None`` when nothing can."""
        raise NotImplementedError

    def _end_lifecycle(self) -> Iterator[None]:
        """The end-of-life callbacks, yielding after each."""
        raise NotImplementedError

    def _lifecycle_then_release(self) -> Iterator[None]:
        yield from self._end_lifecycle()
        self.completed = True
        for slot in self.slots:
            slot.plugin.open_streams -= 1
        self.on_end(self)

    # --- calling plugins ------------------------------------------------------------------------

    def _run(self, slot: Slot, name: str, args: list[int]) -> CallbackOutcome:
        if slot.context is None:
            raise UsageError("internal: a callback for a slot without context")
        return self.services.runner.run(slot.plugin, slot.context, name, args)

    def _action_of(self, slot: Slot, name: str, outcome: CallbackOutcome) -> Action | None:
        """The action a callback answered, or ``None`` if it failed —
        including by answering a number that is no action, which fails the
        plugin here.  A callback the plugin does not export continues."""
        if outcome.failed:
            return None
        if outcome.result is None:
            return Action.CONTINUE
        action = ACTION_RESULTS[action_kind(name)].get(outcome.result)
        if action is None:
            self.services.runner.fail(slot.plugin, Failure(
                slot.plugin.name, name, f"returned {outcome.result}, which is not an action (0 CONTINUE or 1 "
                                        f"PAUSE)", (), self.name))
        return action

    # --- the end -------------------------------------------------------------------------------

    def settle(self, done: Callable[[], bool]) -> bool:
        """Run the proxy until ``done()``; true when it stopped short because
        the traffic cannot move (module docstring)."""
        scheduler = self.services.scheduler
        stall_after_ns = self.services.config.stall_after_ms * NS_PER_MS
        scheduler.run_due()
        while not done():
            next_time = scheduler.next_time()
            deadline = self.last_progress_ns + stall_after_ns
            if next_time is not None and next_time <= deadline:
                scheduler.advance_to(next_time)
                continue
            if next_time is not None:
                scheduler.advance_to(deadline)
                if done():
                    return False
            return True
        return False
