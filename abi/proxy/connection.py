"""``NetworkConnection``: one TCP connection through the network filter chain,
as Envoy's network filter manager runs Wasm network filters.

When the connection opens, each plugin gets its context
(``proxy_on_context_create``) and ``proxy_on_new_connection``, in chain
order; a plugin answering PAUSE stops the later plugins' new-connection
calls and the data behind it until it continues (``proxy_continue_stream``
with DOWNSTREAM).

Data travels as events: what the client sends (*downstream* data) through
the plugins first to last and then to the origin; what the origin sends
(*upstream* data) last to first and then to the client.  Each plugin gets
``proxy_on_downstream_data`` / ``proxy_on_upstream_data`` with the size of
the data buffered at its place and ``end_of_stream``; the DOWNSTREAM_DATA /
UPSTREAM_DATA buffer is that data, editable with the prepend / replace /
append rules of every buffer.  CONTINUE sends it on; PAUSE keeps it buffered
there: the next data for that plugin is added to it and the callback gets
the whole, until the plugin answers CONTINUE or calls
``proxy_continue_stream`` (DOWNSTREAM or UPSTREAM).  Envoy itself answers
UNIMPLEMENTED for continuing UPSTREAM (its write filters cannot be resumed);
the simulation resumes it, and the trace says Envoy would not.

Closing, as Envoy's Wasm network filter sees it:

* the client closes: every plugin gets
  ``proxy_on_downstream_connection_close(REMOTE)``;
* the origin closes: every plugin gets
  ``proxy_on_upstream_connection_close(REMOTE)``, then the proxy closes the
  client's side (``proxy_on_downstream_connection_close(LOCAL)``);
* a plugin closes with ``proxy_close_stream``: DOWNSTREAM closes the
  client's side (LOCAL); UPSTREAM closes the origin's side (LOCAL) and then
  the client's;
* upstream data with ``end_of_stream`` also ends the origin's side
  (``proxy_on_upstream_connection_close(UNKNOWN)``, as Envoy's ``onWrite``
  does).

Once the client's side is closed the connection is over: every plugin gets
``proxy_on_done``, ``proxy_on_log`` and ``proxy_on_delete`` in Envoy's TCP
order (``onCloseTCP``).  A failed plugin is passed over under ``fail_open``;
under ``fail_close`` (and ``fail_reload``) the proxy closes the connection
(the client's side, LOCAL).  A connection whose data is held by a plugin
that never continues is reported stalled when it is finished.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from abi.enums import Action, BufferType, FailurePolicy, PeerType, StreamType
from abi.errors import UsageError
from abi.proxy.contexts import BufferAccess, HeaderMapAccess
from abi.proxy.plugins import Plugin
from abi.proxy.properties import PropertyPath, connection_attribute
from abi.proxy.services import ProxyServices
from abi.proxy.traffic import Traffic, TrafficContext, TrafficControl
from abi.wire.text import as_bytes, readable



class Side(enum.Enum):
    """Which way data goes: DOWNSTREAM (from the client) or UPSTREAM (from
    the origin)."""

    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"

    @property
    def stream_type(self) -> StreamType:
        return StreamType.DOWNSTREAM if self is Side.DOWNSTREAM else StreamType.UPSTREAM

    @property
    def buffer_type(self) -> BufferType:
        return BufferType.DOWNSTREAM_DATA if self is Side.DOWNSTREAM else BufferType.UPSTREAM_DATA


@dataclass(eq=False)
class DataEvent:
    data: bytes
    end_of_stream: bool
    ticket: list[Action] = field(default_factory=lambda: [Action.CONTINUE])

    def pause(self) -> None:
        self.ticket[0] = Action.PAUSE


@dataclass(eq=False)
class DataState:
    """One plugin's state for one direction of one connection."""

    queue: deque[DataEvent] = field(default_factory=deque)
    buffer: bytearray | None = None
    end_of_stream: bool = False
    paused: bool = False
    in_callback: bool = False
    ticket: list[Action] | None = None

    def clear(self) -> None:
        self.queue.clear()
        self.buffer = None
        self.paused = False


class ConnectionBuffers(BufferAccess):
    """The data buffered at one plugin's place, and the root context's
    buffers."""

    def __init__(self, slot: NetworkSlot) -> None:
        super().__init__(slot.plugin.root, slot.plugin.config.vm_configuration_bytes,
                         slot.connection.services.config.limits)
        self.slot = slot

    def buffer(self, buffer_type: BufferType) -> tuple[bytes | bytearray, bool] | None:
        for side in Side:
            if buffer_type is side.buffer_type:
                state = self.slot.state(side)
                if (state.in_callback or state.paused) and state.buffer is not None:
                    return state.buffer, True
                return None
        return super().buffer(buffer_type)


class ConnectionControl(TrafficControl):
    """Continuing and closing one plugin's connection; each takes effect
    when the callback returns."""

    def __init__(self, slot: NetworkSlot) -> None:
        super().__init__(slot.connection.services)
        self.slot = slot

    def continue_stream(self, stream_type: StreamType) -> str:
        slot = self.slot
        if stream_type not in (StreamType.DOWNSTREAM, StreamType.UPSTREAM):
            return "nothing: a TCP connection has no HTTP request or response to continue"
        side = Side.DOWNSTREAM if stream_type is StreamType.DOWNSTREAM else Side.UPSTREAM
        self._defer(lambda: slot.connection.release(slot, side))
        note = f"continue the {side.value} data of connection {slot.connection.name}"
        if side is Side.UPSTREAM:
            note += " (Envoy answers UNIMPLEMENTED here: its write filters cannot be resumed)"
        return note

    def close_stream(self, stream_type: StreamType) -> str:
        slot = self.slot
        if stream_type not in (StreamType.DOWNSTREAM, StreamType.UPSTREAM):
            return "nothing: a TCP connection has no HTTP request or response to close"
        side = Side.DOWNSTREAM if stream_type is StreamType.DOWNSTREAM else Side.UPSTREAM
        self._defer(lambda: slot.connection.close(side, PeerType.LOCAL, f"plugin {slot.plugin.name}"))
        return f"close the {side.value} side of connection {slot.connection.name}"


class NetworkSlot:
    """One plugin's place in one connection's chain."""

    def __init__(self, connection: NetworkConnection, plugin: Plugin, index: int) -> None:
        self.connection = connection
        self.plugin = plugin
        self.index = index
        self.context: TrafficContext | None = None
        self.new_connection_done = False
        self.holds_new_connection = False
        self.downstream = DataState()
        self.upstream = DataState()

    def state(self, side: Side) -> DataState:
        return self.downstream if side is Side.DOWNSTREAM else self.upstream


@dataclass
class PeerReceived:
    """What one end of the connection got."""

    data: bytearray = field(default_factory=bytearray)
    end_of_stream: bool = False

    def to_report(self) -> dict[str, Any]:
        return {"data": readable(bytes(self.data)), "bytes": len(self.data), "end_of_stream": self.end_of_stream}


class NetworkConnection(Traffic):
    """A connection through the network filter chain (module docstring).
    Open with ``ProxyHost.open_connection``; the ``send_*`` and ``close``
    methods play the client and the origin."""

    def __init__(self, services: ProxyServices, name: str, connection_id: int, plugins: list[Plugin],
                 properties: dict[PropertyPath, Any], on_end: Callable[[NetworkConnection], None]) -> None:
        super().__init__(services, name, connection_id, plugins, properties, on_end)
        self.slots = [NetworkSlot(self, plugin, index) for index, plugin in enumerate(plugins)]
        self.origin_received = PeerReceived()
        self.client_received = PeerReceived()
        self.downstream_closed: str | None = None
        self.upstream_closed: str | None = None
        self.closed_by: str | None = None
        self.stalled: str | None = None
        self.failed_by: str | None = None
        self._pending_closes: deque[tuple[Side, PeerType, str]] = deque()
        self._close_callbacks: deque[tuple[NetworkSlot, Side, PeerType]] = deque()
        self.schedule_pump()

    # --- properties (``abi.proxy.properties.PropertyScope``) ---------------------------------

    def derived_property(self, path: PropertyPath, address_of: Callable[[str], str]) -> Any:
        return connection_attribute(self.connection_id, True, path, address_of)

    # --- the Python API: each call drives the proxy ----------------------------------------------

    def send_downstream(self, data: str | bytes, end_of_stream: bool = False) -> Action:
        """The client sends ``data``; PAUSE once a plugin holds it."""
        ticket = self.client_sends(as_bytes(data), end_of_stream)
        self.services.scheduler.run_due()
        return ticket[0]

    def send_upstream(self, data: str | bytes, end_of_stream: bool = False) -> Action:
        """The origin sends ``data``."""
        ticket = self.origin_sends(as_bytes(data), end_of_stream)
        self.services.scheduler.run_due()
        return ticket[0]

    def close_side(self, side: str) -> None:
        """``"downstream"``: the client closes; ``"upstream"``: the origin closes."""
        try:
            which = Side(side)
        except ValueError:
            raise UsageError(f"close 'downstream' or 'upstream', not {side!r}") from None
        self.peer_closes(which)
        self.services.scheduler.run_due()

    # --- the ends, as scheduled tasks drive them --------------------------------------------------

    def client_sends(self, data: bytes, end_of_stream: bool) -> list[Action]:
        return self._send(Side.DOWNSTREAM, data, end_of_stream)

    def origin_sends(self, data: bytes, end_of_stream: bool) -> list[Action]:
        return self._send(Side.UPSTREAM, data, end_of_stream)

    def peer_closes(self, side: Side) -> None:
        who = "client" if side is Side.DOWNSTREAM else "origin"
        self.close(side, PeerType.REMOTE, who)

    def _send(self, side: Side, data: bytes, end_of_stream: bool) -> list[Action]:
        if self.completed or self._ended:
            raise UsageError(f"connection {self.name} is closed")
        closed = self.downstream_closed if side is Side.DOWNSTREAM else self.upstream_closed
        if closed is not None:
            raise UsageError(f"the {side.value} side of connection {self.name} is closed")
        event = DataEvent(bytes(data), end_of_stream)
        self.progressed()
        self._enqueue(side, 0 if side is Side.DOWNSTREAM else len(self.slots) - 1, event)
        self.schedule_pump()
        return event.ticket

    @property
    def busy(self) -> bool:
        """Whether the connection still has work scheduled (the scenario's
        next step waits for it to settle)."""
        return self._pump_scheduled or bool(self._pending_closes) or bool(self._close_callbacks)

    # --- moving data -------------------------------------------------------------------------------

    def _enqueue(self, side: Side, index: int, event: DataEvent) -> None:
        if 0 <= index < len(self.slots):
            self.slots[index].state(side).queue.append(event)
            return
        peer = self.origin_received if side is Side.DOWNSTREAM else self.client_received
        peer.data += event.data
        if event.end_of_stream:
            peer.end_of_stream = True
            if side is Side.UPSTREAM:
                self._pending_closes.append((Side.UPSTREAM, PeerType.UNKNOWN, "origin (end of stream)"))

    def _next_step(self) -> Callable[[], bool] | None:
        if self._close_callbacks:
            return self._close_callback
        if self.downstream_closed is not None:
            self._ended = True
            return None
        for slot in self.slots:
            if not slot.new_connection_done:
                return lambda slot=slot: self._new_connection(slot)
            if slot.holds_new_connection:
                if slot.plugin.failed:
                    return lambda slot=slot: self._failed(slot, Side.DOWNSTREAM)
                break
        if self._pending_closes:
            return self._next_close
        for slot in self.slots:
            if slot.upstream.queue:
                return lambda slot=slot: self._data(slot, Side.UPSTREAM)
        for slot in reversed(self.slots):
            if slot.holds_new_connection or not slot.new_connection_done:
                continue
            if slot.downstream.queue and all(not before.holds_new_connection for before in self.slots[:slot.index]):
                return lambda slot=slot: self._data(slot, Side.DOWNSTREAM)
        return None

    def _new_connection(self, slot: NetworkSlot) -> bool:
        plugin = slot.plugin
        if plugin.failed:
            slot.new_connection_done = True
            if plugin.config.failure_policy is not FailurePolicy.FAIL_OPEN:
                self._fail(slot)
            return False
        if slot.context is None:
            context = TrafficContext(slot, self, HeaderMapAccess(plugin.root, self.services.config.limits),
                                     ConnectionBuffers(slot), ConnectionControl(slot))
            slot.context = context
            plugin.vm.add_context(context)
            root = plugin.root
            return self._run(slot, "proxy_on_context_create", [context.id, root.id if root else 0]).called
        slot.new_connection_done = True
        outcome = self._run(slot, "proxy_on_new_connection", [slot.context.id])
        action = self._action_of(slot, "proxy_on_new_connection", outcome)
        if action is None:
            self._after_failure(slot)
        elif action is Action.PAUSE:
            slot.holds_new_connection = True
        return outcome.called

    def _data(self, slot: NetworkSlot, side: Side) -> bool:
        state = slot.state(side)
        event = state.queue.popleft()
        if slot.plugin.failed:
            if slot.plugin.config.failure_policy is FailurePolicy.FAIL_OPEN:
                self._emit(slot, side, event)
            else:
                event.pause()
                self._fail(slot)
            return False
        if state.buffer is None:
            state.buffer = bytearray()
        limit = self.services.config.limits.max_body_bytes
        if state.paused and len(state.buffer) + len(event.data) > limit:
            event.pause()
            self.services.trace.event("buffer_limit", self.name, plugin=slot.plugin.name, side=side.value,
                                      size=len(state.buffer) + len(event.data), limit=limit)
            self.close(Side.DOWNSTREAM, PeerType.LOCAL, f"the proxy ({side.value} data held by plugin "
                                                        f"{slot.plugin.name} passed limits.max_body_bytes)")
            return False
        state.buffer += event.data
        state.end_of_stream = event.end_of_stream
        state.ticket = event.ticket
        name = f"proxy_on_{side.value}_data"
        state.in_callback = True
        try:
            outcome = self._run(slot, name, [slot.context.id, len(state.buffer), int(event.end_of_stream)])
        finally:
            state.in_callback = False
        action = self._action_of(slot, name, outcome)
        if action is None:
            event.pause()
            self._after_failure(slot)
        elif action is Action.CONTINUE:
            self._forward(slot, side)
        else:
            event.pause()
            state.paused = True
        return outcome.called

    def _forward(self, slot: NetworkSlot, side: Side) -> None:
        state = slot.state(side)
        data = bytes(state.buffer or b"")
        event = DataEvent(data, state.end_of_stream, state.ticket or [Action.CONTINUE])
        state.buffer = None
        state.paused = False
        self._emit(slot, side, event)

    def _emit(self, slot: NetworkSlot, side: Side, event: DataEvent) -> None:
        step = 1 if side is Side.DOWNSTREAM else -1
        self._enqueue(side, slot.index + step, event)

    def release(self, slot: NetworkSlot, side: Side) -> None:
        """``proxy_continue_stream``: let go of what ``slot`` holds."""
        self.progressed()
        if side is Side.DOWNSTREAM and slot.holds_new_connection:
            slot.holds_new_connection = False
            self.services.trace.event("continue", self.name, plugin=slot.plugin.name, direction="new_connection")
        state = slot.state(side)
        if state.paused:
            self.services.trace.event("continue", self.name, plugin=slot.plugin.name, direction=side.value)
            self._forward(slot, side)
        self.schedule_pump()

    def _failed(self, slot: NetworkSlot, side: Side) -> bool:
        self._after_failure(slot)
        return False

    def _after_failure(self, slot: NetworkSlot) -> None:
        if slot.plugin.config.failure_policy is FailurePolicy.FAIL_OPEN:
            slot.holds_new_connection = False
            for side in Side:
                if slot.state(side).paused or slot.state(side).in_callback or slot.state(side).buffer:
                    self._forward(slot, side)
        else:
            self._fail(slot)

    def _fail(self, slot: NetworkSlot) -> None:
        if self.failed_by is None:
            self.failed_by = slot.plugin.name
            self.close(Side.DOWNSTREAM, PeerType.LOCAL, f"the proxy (plugin {slot.plugin.name} failed)")

    # --- closing -----------------------------------------------------------------------------------

    def close(self, side: Side, peer: PeerType, who: str) -> None:
        """One side closes (module docstring); the callbacks follow as steps."""
        if self._ended or self.downstream_closed is not None:
            return
        self.progressed()
        self._pending_closes.append((side, peer, who))
        if side is Side.UPSTREAM and peer is not PeerType.UNKNOWN:
            self._pending_closes.append((Side.DOWNSTREAM, PeerType.LOCAL, "the proxy (origin side closed)"))
        self.schedule_pump()

    def _next_close(self) -> bool:
        """A side closes: mark it, then each plugin's close callback as a
        step of its own."""
        side, peer, who = self._pending_closes.popleft()
        if (self.downstream_closed if side is Side.DOWNSTREAM else self.upstream_closed) is not None:
            return False
        if side is Side.DOWNSTREAM:
            self.downstream_closed = who
            self.closed_by = who
            for slot in self.slots:
                slot.downstream.clear()
                slot.upstream.clear()
        else:
            self.upstream_closed = who
        self.services.trace.event("connection_close", self.name, side=side.value, peer=peer.name, by=who)
        self._close_callbacks.extend((slot, side, peer) for slot in self.slots if slot.context is not None)
        return False

    def _close_callback(self) -> bool:
        slot, side, peer = self._close_callbacks.popleft()
        if slot.plugin.failed or slot.context is None:
            return False
        return self._run(slot, f"proxy_on_{side.value}_connection_close", [slot.context.id, int(peer)]).called

    def finish(self) -> None:
        """Run the proxy until this connection is over; held data that can
        never move makes it stalled; a connection still open is closed by the
        proxy (LOCAL), as when a listener drains."""
        if self.settle(lambda: self.completed or self._ended or not self._holding()):
            self.stalled = self._stall_reason()
            self.services.trace.event("stalled", self.name, reason=self.stalled)
        self.close(Side.DOWNSTREAM, PeerType.LOCAL, "the proxy (shutting down)")
        self.services.scheduler.run_due()

    def _holding(self) -> bool:
        return any(slot.holds_new_connection or slot.downstream.paused or slot.upstream.paused
                   for slot in self.slots)

    def _stall_reason(self) -> str:
        for slot in self.slots:
            if slot.holds_new_connection:
                return f"new connection paused by plugin {slot.plugin.name} and never resumed"
            for side in Side:
                if slot.state(side).paused:
                    return (f"{side.value} data held by plugin {slot.plugin.name} (paused in "
                            f"proxy_on_{side.value}_data) and never resumed")
        return "the connection never closed"

    def _end_lifecycle(self) -> Iterator[None]:
        """``proxy_on_done``, ``proxy_on_log``, ``proxy_on_delete`` per plugin
        (Envoy's TCP order)."""
        self.services.trace.event("connection_end", self.name)
        for slot in self.slots:
            context = slot.context
            if context is None:
                continue
            for callback in ("proxy_on_done", "proxy_on_log", "proxy_on_delete"):
                if not slot.plugin.failed:
                    self._run(slot, callback, [context.id])
                    yield
            slot.plugin.vm.remove_context(context)

    def to_report(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "plugins": [slot.plugin.name for slot in self.slots],
            "origin_received": self.origin_received.to_report(),
            "client_received": self.client_received.to_report(),
            "closed_by": self.closed_by,
            "upstream_closed_by": self.upstream_closed,
            "stalled": self.stalled,
            "failed_by": self.failed_by,
            "http_calls": [call.to_report() for call in self.services.http_callouts.calls_of_stream(self.name)],
        }

    def __repr__(self) -> str:
        return f"<NetworkConnection {self.name}>"
