"""``HttpStream``: one HTTP request/response going through the filter chain,
as Envoy's filter manager runs it.

The chain is the plugins in order; the request goes through them first to
last, the response last to first.  Headers, body chunks and trailers travel
as events.  Each plugin has a place in the chain (a ``FilterSlot``) with, per
direction, a queue of events that reached it and what it holds back:

* headers or trailers answered PAUSE stop everything at that plugin (Envoy's
  StopAllIteration): later events wait in its queue until
  ``proxy_continue_stream``, after which the held event moves on and the
  queued ones reach the plugin — body chunks that arrived meanwhile as one
  chunk, as Envoy buffers them;
* a body chunk answered PAUSE is buffered at that plugin (Envoy's
  StopIterationAndBuffer): the next chunk is added and the callback gets the
  cumulative size, so a plugin can wait for ``end_of_stream`` and read the
  whole body; CONTINUE (or ``proxy_continue_stream``) sends the buffer on.
  Trailers reaching a plugin that buffers reach its trailers callback;
  CONTINUE then sends the buffered body and the trailers on.

Events are processed depth first (an event goes as far as it can before the
next one moves).  The stream moves in steps run by the proxy's scheduler
(``abi.proxy.scheduler``), one callback per step: work a callback caused
(callout answers due at once, queue notifications, actions a plugin asked
for — continue, local reply, close — which take effect when its callback
returns) is scheduled during the callback, so it happens before the stream's
next step.

The origin receives the request as it leaves the last plugin and, with a
configured answer, responds once the request is complete (a response never
overtakes the request).  The stream ends when the client has the whole
response, or when it is reset.  Then, in Envoy's order, every plugin gets
``proxy_on_log`` (first to last; a plugin the request never reached gets its
context created first, as Envoy's access-log path does), and then, plugin by
plugin, ``proxy_on_done`` and ``proxy_on_delete`` (a false ``proxy_on_done``
is ignored for stream contexts, as in Envoy).  A stream that can make no
progress (a pause never resumed, an HTTP call never answered) is *stalled*
when nothing scheduled could move it any more, or when it has made no
progress for the host's ``stall_after_ms`` of simulated time (a timer that
resumes it in time is no stall): ``finish()`` reports who holds it and ends
it the same way.

Local replies (``proxy_send_local_response``):

* sent while the response has not started, the request path ends there
  (nothing more of the request moves), and the reply goes through the
  response path of every plugin that saw the request headers, last to first
  — so the sending plugin and those before it; plugins the request never
  reached pass it on without being called, as Envoy's encoder chain does
  for filters whose request never started;
* sent once the response has started (from a response callback), it
  replaces the response and goes straight to the client without passing
  any plugin (Envoy's direct local reply); if the client already has the
  response headers, the stream is reset instead;
* only the first local reply of a stream counts; later ones are ignored (the
  trace shows them).

Reply headers are ``:status``, the plugin's headers (lower-cased), then
``content-length`` and ``content-type: text/plain`` when there is a body and
the plugin set no content type, as Envoy's ``sendLocalReply`` builds them.

A failed plugin (see ``abi.proxy.plugins``) is never called again.  With
``fail_open`` it is passed over as if it answered CONTINUE (whatever it held
moves on); with ``fail_close`` (and ``fail_reload``) the stream ends with a
503 local reply (details ``wasm_fail_stream``, empty body) from that plugin's
place, which the failed plugin itself is passed over by.

What each plugin reaches through its HTTP context (a ``TrafficContext``): the
request or response headers in that direction's headers callback and for
as long as it keeps them paused there, read-only in ``proxy_on_log``; the
trailers in the trailers callback (and while paused there); in a body
callback with ``end_of_stream`` and no trailers, a change to the trailers
creates them (Envoy's ``addDecodedTrailers``), and the new map stays usable
for the rest of that callback and the following ones; response trailers
read-only in ``proxy_on_log``; the body buffered at the plugin in its body
callback and while it keeps the body paused.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from abi.context_interface import Pairs
from abi.enums import Action, BufferType, FailurePolicy, MapType, StreamType
from abi.errors import UsageError
from abi.proxy.contexts import BufferAccess, HeaderMapAccess, header_limit_exceeded, local_reply_headers
from abi.proxy.headers import HeaderInput, HeaderMap
from abi.proxy.plugins import Plugin
from abi.proxy.properties import PropertyPath, stream_attribute
from abi.proxy.records import HttpMessage, LocalResponse
from abi.proxy.services import ProxyServices
from abi.proxy.traffic import Traffic, TrafficContext, TrafficControl
from abi.wire.text import as_bytes, from_wire

FAIL_STREAM_DETAILS = "wasm_fail_stream"
FAIL_STREAM_STATUS = 503
ORIGIN_DETAILS = "via_upstream"


class EventKind(enum.Enum):
    HEADERS = "headers"
    DATA = "body"
    TRAILERS = "trailers"


class Ticket:
    """The answer to one ``send_*`` call: PAUSE once any plugin held back
    what was sent (or the stream failed under it), else CONTINUE."""

    __slots__ = ("action",)

    def __init__(self) -> None:
        self.action = Action.CONTINUE


@dataclass(eq=False)
class StreamEvent:
    kind: EventKind
    data: bytes = b""
    end_of_stream: bool = False
    ticket: Ticket | None = None

    def pause(self) -> None:
        if self.ticket is not None:
            self.ticket.action = Action.PAUSE


@dataclass(frozen=True)
class OriginResponse:
    """What the origin answers once it has the whole request: headers (a
    ``:status`` of 200 is added when missing), body chunks, trailers."""

    headers: tuple[tuple[str, str], ...] = ((":status", "200"),)
    body: tuple[bytes, ...] = ()
    trailers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def make(cls, headers: HeaderInput = None, body: str | bytes | list[str | bytes] = (),
             trailers: HeaderInput = None) -> OriginResponse:
        chunks = [body] if isinstance(body, (str, bytes)) else list(body)
        header_map = HeaderMap(headers)
        if header_map.get(":status") is None:
            header_map.add(":status", "200")
        return cls(tuple(header_map.items()), tuple(as_bytes(chunk) for chunk in chunks if len(chunk)),
                   tuple(HeaderMap(trailers).items()))


@dataclass(eq=False)
class DirectionState:
    """One plugin's state for one direction of one stream."""

    queue: deque[StreamEvent] = field(default_factory=deque)
    held: StreamEvent | None = None  # headers or trailers answered PAUSE
    body: bytearray | None = None  # body buffered here
    body_end: bool = False
    body_ticket: Ticket | None = None
    body_paused: bool = False
    in_callback: EventKind | None = None
    may_add_trailers: bool = False
    added_trailers: bool = False

    @property
    def stopped(self) -> bool:
        return self.held is not None

    @property
    def holding(self) -> bool:
        return self.held is not None or self.body_paused

    def clear(self) -> None:
        self.queue.clear()
        self.held = None
        self.body = None
        self.body_paused = False
        self.body_end = False


def _open_for(state: DirectionState, kind: EventKind) -> bool:
    return state.in_callback is kind or (state.held is not None and state.held.kind is kind)


class StreamHeaders(HeaderMapAccess):
    """The maps of one plugin's place in a stream (module docstring), and its
    root context's callout maps."""

    def __init__(self, slot: FilterSlot) -> None:
        super().__init__(slot.plugin.root, slot.stream.services.config.limits)
        self.slot = slot

    def readable(self, map_type: MapType) -> HeaderMap | None:
        return self.slot.header_map(map_type, writable=False) or super().readable(map_type)

    def writable(self, map_type: MapType) -> HeaderMap | None:
        return self.slot.header_map(map_type, writable=True)


class StreamBuffers(BufferAccess):
    """The body buffered at one plugin's place, and the root context's
    buffers."""

    def __init__(self, slot: FilterSlot) -> None:
        super().__init__(slot.plugin.root, slot.plugin.config.vm_configuration_bytes,
                         slot.stream.services.config.limits)
        self.slot = slot

    def buffer(self, buffer_type: BufferType) -> tuple[bytes | bytearray, bool] | None:
        if buffer_type in (BufferType.REQUEST_BODY, BufferType.RESPONSE_BODY):
            body = self.slot.body_buffer(buffer_type)
            return None if body is None else (body, True)
        return super().buffer(buffer_type)


class StreamControl(TrafficControl):
    """Continuing, closing and answering one plugin's stream; each takes
    effect when the callback returns."""

    def __init__(self, slot: FilterSlot) -> None:
        super().__init__(slot.stream.services)
        self.slot = slot

    def continue_stream(self, stream_type: StreamType) -> str:
        slot = self.slot
        if stream_type not in (StreamType.REQUEST, StreamType.RESPONSE):
            return "nothing: an HTTP stream has no TCP direction to continue"
        self._defer(lambda: slot.stream.release(slot, stream_type))
        return f"continue the {stream_type.name.lower()} of stream {slot.stream.name}"

    def close_stream(self, stream_type: StreamType) -> str:
        slot = self.slot
        if stream_type not in (StreamType.REQUEST, StreamType.RESPONSE):
            return "nothing: an HTTP stream has no TCP direction to close"
        reason = f"closed by plugin {slot.plugin.name} ({stream_type.name.lower()})"
        self._defer(lambda: slot.stream.reset(reason))
        return f"reset stream {slot.stream.name}"

    def send_local_response(self, status: int, details: bytes, body: bytes, headers: Pairs,
                            grpc_status: int | None) -> str:
        slot = self.slot
        reply = LocalResponse(status=status, details=from_wire(details), body=bytes(body),
                              headers=local_reply_headers(headers), grpc_status=grpc_status,
                              plugin=slot.plugin.name)
        self._defer(lambda: slot.stream.send_local_response(slot, reply))
        return f"local reply {status} on stream {slot.stream.name}"


class FilterSlot:
    """One plugin's place in one stream's chain."""

    def __init__(self, stream: HttpStream, plugin: Plugin, index: int) -> None:
        self.stream = stream
        self.plugin = plugin
        self.index = index
        self.context: TrafficContext | None = None
        self.saw_request = False
        self.request = DirectionState()
        self.response = DirectionState()
        self.logging = False

    def direction(self, stream_type: StreamType) -> DirectionState:
        return self.request if stream_type is StreamType.REQUEST else self.response

    def header_map(self, map_type: MapType, writable: bool) -> HeaderMap | None:
        """The stream's map if this plugin may use it now (module docstring)."""
        stream = self.stream
        if map_type in (MapType.REQUEST_HEADERS, MapType.RESPONSE_HEADERS):
            state = self.request if map_type is MapType.REQUEST_HEADERS else self.response
            headers = stream.request_headers if map_type is MapType.REQUEST_HEADERS else stream.response_headers
            if headers is None:
                return None
            if _open_for(state, EventKind.HEADERS) or (self.logging and not writable):
                return headers
            return None
        if map_type in (MapType.REQUEST_TRAILERS, MapType.RESPONSE_TRAILERS):
            request = map_type is MapType.REQUEST_TRAILERS
            state = self.request if request else self.response
            trailers = stream.request_trailers if request else stream.response_trailers
            if trailers is not None and (_open_for(state, EventKind.TRAILERS) or state.added_trailers
                                         or (self.logging and not writable and not request)):
                return trailers
            if trailers is None and writable and state.in_callback is EventKind.DATA and state.may_add_trailers:
                trailers = HeaderMap()
                if request:
                    stream.request_trailers = trailers
                else:
                    stream.response_trailers = trailers
                state.added_trailers = True
                return trailers
            return None
        return None

    def body_buffer(self, buffer_type: BufferType) -> bytearray | None:
        state = self.request if buffer_type is BufferType.REQUEST_BODY else self.response
        if state.in_callback is EventKind.DATA or state.body_paused:
            return state.body
        return None


def http_slot(context: object) -> FilterSlot | None:
    """The stream slot a context belongs to, if it is a plugin's context in
    an HTTP stream (not a root context or a connection's)."""
    slot = context.slot if isinstance(context, TrafficContext) else None
    return slot if isinstance(slot, FilterSlot) else None


def _coalesce_body(queue: deque[StreamEvent]) -> None:
    """Body chunks that waited behind paused headers reach the plugin as one
    chunk, as Envoy buffers them while the filter is stopped."""
    chunks = []
    while queue and queue[0].kind is EventKind.DATA:
        chunks.append(queue.popleft())
    if chunks:
        queue.appendleft(StreamEvent(EventKind.DATA, b"".join(chunk.data for chunk in chunks),
                                     chunks[-1].end_of_stream, chunks[-1].ticket))


class HttpStream(Traffic):
    """A stream through the HTTP filter chain (see the module docstring).
    Open with ``ProxyHost.open_stream``; feed it with the ``send_*`` methods.

    ``origin`` answers automatically once the request is complete; without it
    the caller plays the origin with ``send_response_*``.  ``on_end`` is told
    when the stream's lifecycle is over.
    """

    def __init__(self, services: ProxyServices, name: str, connection_id: int, plugins: list[Plugin],
                 origin: OriginResponse | None, properties: dict[PropertyPath, Any],
                 on_end: Callable[[HttpStream], None]) -> None:
        super().__init__(services, name, connection_id, plugins, properties, on_end)
        self.origin = origin
        self.slots = [FilterSlot(self, plugin, index) for index, plugin in enumerate(plugins)]
        self.start_time_ns = services.scheduler.wall_time_ns()
        self.end_time_ns: int | None = None
        self.request_headers = HeaderMap()
        self.request_trailers: HeaderMap | None = None
        self.response_headers: HeaderMap | None = None
        self.response_trailers: HeaderMap | None = None
        self.response_details: str | None = None
        self.request_body_size = 0
        self.response_body_size = 0
        self.upstream_request: HttpMessage | None = None
        self.downstream_response: HttpMessage | None = None
        # The two ends as they were before any plugin changed them (what the summary compares).
        self.client_request = HttpMessage()
        self.origin_response: HttpMessage | None = None
        self.local_response: LocalResponse | None = None
        self.reset_reason: str | None = None
        self.stalled: str | None = None
        self.failed_by: str | None = None
        self.done_ignored: list[str] = []
        self._request_sent: set[EventKind] = set()
        self._request_ended = False
        self._response_ended = False
        self._request_aborted = False
        self._response_started = False
        self._response_sent: set[EventKind] = set()

    # --- properties (``abi.proxy.properties.PropertyScope``) ------------------------------

    @property
    def reached_origin(self) -> bool:
        return self.upstream_request is not None

    def derived_property(self, path: PropertyPath, address_of: Callable[[str], str]) -> Any:
        return stream_attribute(self, path, address_of)

    @property
    def http_calls(self) -> list[Any]:
        return self.services.http_callouts.calls_of_stream(self.name)

    @property
    def grpc_calls(self) -> list[Any]:
        return [call for call in self.services.grpc_callouts.calls if call.stream_name == self.name]

    # --- the client and the origin (the Python API: each call drives the proxy) -------------

    def send_request_headers(self, headers: HeaderInput, end_of_stream: bool = False) -> Action:
        """The client sends the request headers; the chain's answer (see
        ``Ticket``)."""
        return self._drive(self.client_sends_headers(headers, end_of_stream))

    def send_request_body(self, data: str | bytes, end_of_stream: bool = False) -> Action:
        return self._drive(self.client_sends_body(data, end_of_stream))

    def send_request_trailers(self, trailers: HeaderInput) -> Action:
        return self._drive(self.client_sends_trailers(trailers))

    def send_response_headers(self, headers: HeaderInput, end_of_stream: bool = False) -> Action:
        """Play the origin: its response headers (only for streams opened
        without an ``origin`` answer, before any local reply)."""
        self._check_manual_response(EventKind.HEADERS)
        self.response_headers = HeaderMap(headers)
        self.response_details = ORIGIN_DETAILS
        self._response_started = True
        self.origin_response = HttpMessage(self.response_headers.copy(), end_of_stream=end_of_stream)
        return self._drive(self._send_response(StreamEvent(EventKind.HEADERS, end_of_stream=end_of_stream,
                                                           ticket=Ticket())))

    def send_response_body(self, data: str | bytes, end_of_stream: bool = False) -> Action:
        self._check_manual_response(EventKind.DATA)
        chunk = as_bytes(data)
        self.response_body_size += len(chunk)
        _record(self.origin_response, chunk, end_of_stream)
        return self._drive(self._send_response(StreamEvent(EventKind.DATA, chunk, end_of_stream, Ticket())))

    def send_response_trailers(self, trailers: HeaderInput) -> Action:
        self._check_manual_response(EventKind.TRAILERS)
        self.response_trailers = HeaderMap(trailers)
        _record_trailers(self.origin_response, self.response_trailers)
        return self._drive(self._send_response(StreamEvent(EventKind.TRAILERS, end_of_stream=True,
                                                           ticket=Ticket())))

    def _drive(self, ticket: Ticket) -> Action:
        self.services.scheduler.run_due()
        return ticket.action

    # --- the client, as the scheduler's tasks send it ------------------------------------------

    def client_sends_headers(self, headers: HeaderInput, end_of_stream: bool = False) -> Ticket:
        self._check_sendable(EventKind.HEADERS, "request")
        self.request_headers.set_pairs(HeaderMap(headers).wire_pairs())
        self.client_request.headers = self.request_headers.copy()
        self.client_request.end_of_stream = end_of_stream
        limit = header_limit_exceeded(self.request_headers, self.services.config.limits)
        if limit is not None:
            # Envoy's codec refuses such a request before any filter sees it.
            self._request_ended = end_of_stream
            self.services.trace.event("header_limit", self.name, limit=limit)
            self.send_local_response(None, LocalResponse(431, "request_headers_too_large",
                                                         b"Request Header Fields Too Large", (), None, None))
            ticket = Ticket()
            ticket.action = Action.PAUSE
            return ticket
        return self._send_request(StreamEvent(EventKind.HEADERS, end_of_stream=end_of_stream, ticket=Ticket()))

    def client_sends_body(self, data: str | bytes, end_of_stream: bool = False) -> Ticket:
        self._check_sendable(EventKind.DATA, "request")
        chunk = as_bytes(data)
        self.request_body_size += len(chunk)
        _record(self.client_request, chunk, end_of_stream)
        return self._send_request(StreamEvent(EventKind.DATA, chunk, end_of_stream, Ticket()))

    def client_sends_trailers(self, trailers: HeaderInput) -> Ticket:
        self._check_sendable(EventKind.TRAILERS, "request")
        self.request_trailers = HeaderMap(trailers)
        _record_trailers(self.client_request, self.request_trailers)
        return self._send_request(StreamEvent(EventKind.TRAILERS, end_of_stream=True, ticket=Ticket()))

    def _check_sendable(self, kind: EventKind, side: str) -> None:
        sent = self._request_sent if side == "request" else self._response_sent
        ended = self._request_ended if side == "request" else self._response_ended
        if self.completed:
            raise UsageError(f"stream {self.name} has ended")
        if ended:
            raise UsageError(f"the {side} already ended (end_of_stream was set or trailers were sent)")
        if kind is not EventKind.HEADERS and EventKind.HEADERS not in sent:
            raise UsageError(f"send the {side} headers first")
        if kind is EventKind.HEADERS and kind in sent:
            raise UsageError(f"the {side} headers were already sent")
        sent.add(kind)

    def _check_manual_response(self, kind: EventKind) -> None:
        if self.origin is not None:
            raise UsageError(f"stream {self.name} has an origin that answers by itself")
        if self.local_response is not None or (kind is EventKind.HEADERS and self._response_started):
            raise UsageError(f"stream {self.name} already has a response")
        self._check_sendable(kind, "response")

    def _send_request(self, event: StreamEvent) -> Ticket:
        ticket = event.ticket or Ticket()
        self._request_ended = event.end_of_stream
        self.progressed()
        if self._request_aborted:
            event.pause()
            self.services.trace.event("request_dropped", self.name, kind=event.kind.value,
                                      reason="the request path has ended (local reply)")
            return ticket
        self._enqueue(StreamType.REQUEST, 0, event)
        self.schedule_pump()
        return ticket

    def _send_response(self, event: StreamEvent) -> Ticket:
        self._response_ended = event.end_of_stream
        self.progressed()
        self._enqueue(StreamType.RESPONSE, len(self.slots) - 1, event)
        self.schedule_pump()
        return event.ticket or Ticket()

    # --- moving events ---------------------------------------------------------------------

    def _enqueue(self, stream_type: StreamType, index: int, event: StreamEvent) -> None:
        if 0 <= index < len(self.slots):
            self.slots[index].direction(stream_type).queue.append(event)
        elif stream_type is StreamType.REQUEST:
            self._to_origin(event)
        else:
            self._to_client(event)

    def _emit(self, slot: FilterSlot, stream_type: StreamType, event: StreamEvent) -> None:
        step = 1 if stream_type is StreamType.REQUEST else -1
        self._enqueue(stream_type, slot.index + step, event)

    def _next_step(self) -> Callable[[], bool] | None:
        work = self._next_work()
        return None if work is None else (lambda: self._step(*work))

    def _next_work(self) -> tuple[FilterSlot, StreamType] | None:
        for slot in self.slots:
            if slot.plugin.failed and (slot.request.holding or slot.response.holding):
                return slot, StreamType.RESPONSE if slot.response.holding else StreamType.REQUEST
        for slot in self.slots:
            if slot.response.queue and not slot.response.stopped:
                return slot, StreamType.RESPONSE
        for slot in reversed(self.slots):
            if slot.request.queue and not slot.request.stopped:
                return slot, StreamType.REQUEST
        return None

    def _step(self, slot: FilterSlot, stream_type: StreamType) -> bool:
        """Process the next event at ``slot``; whether a plugin was called."""
        state = slot.direction(stream_type)
        plugin = slot.plugin
        if plugin.failed:
            passes = (plugin.config.failure_policy is FailurePolicy.FAIL_OPEN or self.local_response is not None
                      or (stream_type is StreamType.RESPONSE and not slot.saw_request))
            if passes:
                self._pass_over(slot, stream_type)
            else:
                for event in state.queue:
                    event.pause()
                state.clear()
                self._fail(slot)
            return False
        if stream_type is StreamType.RESPONSE and not slot.saw_request:
            self._pass_event(slot, stream_type, state.queue.popleft())
            return False
        slot.saw_request = True
        if slot.context is None:
            return self._create_context(slot)
        event = state.queue.popleft()
        context = slot.context
        prefix = "proxy_on_request_" if stream_type is StreamType.REQUEST else "proxy_on_response_"
        headers = self.request_headers if stream_type is StreamType.REQUEST else self.response_headers
        trailers = self.request_trailers if stream_type is StreamType.REQUEST else self.response_trailers
        if event.kind is EventKind.HEADERS:
            args = [context.id, len(headers) if headers is not None else 0, int(event.end_of_stream)]
        elif event.kind is EventKind.DATA:
            if state.body is None:
                state.body = bytearray()
            if state.body_paused and len(state.body) + len(event.data) > self.services.config.limits.max_body_bytes:
                event.pause()
                self._buffer_overflow(slot, stream_type, len(state.body) + len(event.data))
                return False
            state.body += event.data
            state.body_end = event.end_of_stream
            state.body_ticket = event.ticket
            state.may_add_trailers = event.end_of_stream and trailers is None
            state.added_trailers = False
            args = [context.id, len(state.body), int(event.end_of_stream)]
        else:
            args = [context.id, len(trailers) if trailers is not None else 0]
        name = prefix + event.kind.value
        state.in_callback = event.kind
        try:
            outcome = self._run(slot, name, args)
        finally:
            state.in_callback = None
        action = self._action_of(slot, name, outcome)
        if action is None:
            event.pause()
            self._after_failure(slot, stream_type, event)
        elif action is Action.CONTINUE:
            self._forward(slot, stream_type, event)
        else:
            event.pause()
            if event.kind is EventKind.DATA:
                state.body_paused = True
            else:
                state.held = event
        return outcome.called

    def _forward(self, slot: FilterSlot, stream_type: StreamType, event: StreamEvent) -> None:
        """Send ``event`` on from ``slot`` (with the body buffered there)."""
        state = slot.direction(stream_type)
        if event.kind is EventKind.DATA:
            body = bytes(state.body or b"")
            end = state.body_end
            ticket = state.body_ticket
            added = state.added_trailers
            state.body = None
            state.body_paused = False
            state.added_trailers = False
            if added and end:
                self._emit(slot, stream_type, StreamEvent(EventKind.DATA, body, False, ticket))
                self._emit(slot, stream_type, StreamEvent(EventKind.TRAILERS, end_of_stream=True, ticket=ticket))
            else:
                self._emit(slot, stream_type, StreamEvent(EventKind.DATA, body, end, ticket))
            return
        if event.kind is EventKind.TRAILERS and state.body is not None:
            self._emit(slot, stream_type, StreamEvent(EventKind.DATA, bytes(state.body), False, state.body_ticket))
            state.body = None
            state.body_paused = False
        self._emit(slot, stream_type, event)

    def release(self, slot: FilterSlot, stream_type: StreamType) -> None:
        """Let go of what ``slot`` holds in that direction
        (``proxy_continue_stream``; nothing held: nothing happens)."""
        state = slot.direction(stream_type)
        if self.completed or not state.holding:
            self.services.trace.event("continue_ignored", self.name, plugin=slot.plugin.name,
                                      direction=stream_type.name.lower(), reason="nothing is paused there")
            return
        self.services.trace.event("continue", self.name, plugin=slot.plugin.name,
                                  direction=stream_type.name.lower())
        self.progressed()
        held = state.held
        state.held = None
        if held is not None:
            if held.kind is EventKind.HEADERS:
                _coalesce_body(state.queue)
            self._forward(slot, stream_type, held)
        elif state.body_paused:
            self._forward(slot, stream_type, StreamEvent(EventKind.DATA, ticket=state.body_ticket))
        self.schedule_pump()

    def _pass_over(self, slot: FilterSlot, stream_type: StreamType) -> None:
        """A failed ``fail_open`` plugin: everything it holds or gets moves on."""
        state = slot.direction(stream_type)
        if state.holding:
            self.release(slot, stream_type)
            return
        self._pass_event(slot, stream_type, state.queue.popleft())

    def _pass_event(self, slot: FilterSlot, stream_type: StreamType, event: StreamEvent) -> None:
        """Move ``event`` past ``slot`` without calling its plugin."""
        state = slot.direction(stream_type)
        if event.kind is EventKind.DATA:
            if state.body is None:
                state.body = bytearray()
            state.body += event.data
            state.body_end = event.end_of_stream
            state.body_ticket = event.ticket
        self._forward(slot, stream_type, event)

    def _after_failure(self, slot: FilterSlot, stream_type: StreamType, event: StreamEvent) -> None:
        if slot.plugin.config.failure_policy is FailurePolicy.FAIL_OPEN:
            self._forward(slot, stream_type, event)
        else:
            slot.direction(stream_type).clear()
            self._fail(slot)

    def _buffer_overflow(self, slot: FilterSlot, stream_type: StreamType, size: int) -> None:
        """A body buffered at ``slot`` would pass ``max_body_bytes``: Envoy's
        413 for a request, 500 for a response."""
        request = stream_type is StreamType.REQUEST
        self.services.trace.event("buffer_limit", self.name, plugin=slot.plugin.name, size=size,
                                  limit=self.services.config.limits.max_body_bytes)
        slot.direction(stream_type).clear()
        status, details, body = ((413, "request_payload_too_large", b"Payload Too Large") if request
                                 else (500, "response_payload_too_large", b"Internal Server Error"))
        self.send_local_response(slot, LocalResponse(status, details, body, (), None, None))

    def _fail(self, slot: FilterSlot) -> None:
        """``fail_close``: end the stream with a 503 from ``slot`` — or, when
        it already has a local reply or the client has the response headers,
        reset it (Envoy's ``failStream`` cannot reply twice)."""
        if self.failed_by is not None or self.completed:
            return
        self.failed_by = slot.plugin.name
        if self.local_response is not None or self.downstream_response is not None:
            self.reset(f"plugin {slot.plugin.name} failed")
            return
        self.send_local_response(slot, LocalResponse(FAIL_STREAM_STATUS, FAIL_STREAM_DETAILS, b"", (), None,
                                                     slot.plugin.name))

    def _create_context(self, slot: FilterSlot) -> bool:
        """``proxy_on_context_create(id, root)`` for the slot's plugin;
        whether it was called."""
        plugin = slot.plugin
        context = TrafficContext(slot, self, StreamHeaders(slot), StreamBuffers(slot), StreamControl(slot))
        slot.context = context
        plugin.vm.add_context(context)
        root = plugin.root
        return self._run(slot, "proxy_on_context_create", [context.id, root.id if root is not None else 0]).called

    # --- the ends --------------------------------------------------------------------------

    def _to_origin(self, event: StreamEvent) -> None:
        if self.upstream_request is None:
            self.upstream_request = HttpMessage(self.request_headers.copy())
            self.services.trace.event("origin_request_headers", self.name,
                                      headers=self.request_headers.to_report())
        message = self.upstream_request
        if _receive(message, event, self.request_trailers):
            self.services.trace.event("origin_request_complete", self.name, body_size=len(message.body))
            if self.origin is not None and not self._response_started:
                self._origin_responds(self.origin)

    def _origin_responds(self, origin: OriginResponse) -> None:
        self._response_started = True
        self.response_headers = HeaderMap(origin.headers)
        self.response_details = ORIGIN_DETAILS
        self.response_trailers = HeaderMap(origin.trailers) if origin.trailers else None
        self.origin_response = HttpMessage(self.response_headers.copy(), bytearray(b"".join(origin.body)),
                                           self.response_trailers.copy() if self.response_trailers else None, True)
        last = len(self.slots) - 1
        self._enqueue(StreamType.RESPONSE, last, StreamEvent(
            EventKind.HEADERS, end_of_stream=not origin.body and not origin.trailers))
        for position, chunk in enumerate(origin.body):
            self.response_body_size += len(chunk)
            ends = position == len(origin.body) - 1 and not origin.trailers
            self._enqueue(StreamType.RESPONSE, last, StreamEvent(EventKind.DATA, chunk, ends))
        if origin.trailers:
            self._enqueue(StreamType.RESPONSE, last, StreamEvent(EventKind.TRAILERS, end_of_stream=True))

    def _to_client(self, event: StreamEvent) -> None:
        if self.downstream_response is None:
            self.downstream_response = HttpMessage((self.response_headers or HeaderMap()).copy())
        if _receive(self.downstream_response, event, self.response_trailers):
            self._ended = True

    # --- local replies and resets -----------------------------------------------------------

    def send_local_response(self, slot: FilterSlot | None, reply: LocalResponse) -> None:
        """A local reply from ``slot``'s plugin, or from the proxy itself
        (``None``: a limit, see ``abi.proxy.limits``); see the module
        docstring."""
        if self.completed or self._ended or self.local_response is not None:
            self.services.trace.event("local_response_ignored", self.name, plugin=reply.plugin,
                                      status=reply.status,
                                      reason="the stream already has a local reply or has ended")
            return
        self.local_response = reply
        self.progressed()
        headers = _reply_headers(reply)
        self.response_details = reply.details
        if not self._response_started:
            self.services.trace.event("local_response", self.name, plugin=reply.plugin, status=reply.status,
                                      path="through the response path")
            self._request_aborted = True
            for each in self.slots:
                each.request.clear()
            self._response_started = True
            self.response_headers = headers
            self.response_trailers = None
            self.response_body_size = len(reply.body)
            last = len(self.slots) - 1
            self._enqueue(StreamType.RESPONSE, last, StreamEvent(EventKind.HEADERS, end_of_stream=not reply.body))
            if reply.body:
                self._enqueue(StreamType.RESPONSE, last, StreamEvent(EventKind.DATA, reply.body, True))
        elif self.downstream_response is None:
            self.services.trace.event("local_response", self.name, plugin=reply.plugin, status=reply.status,
                                      path="straight to the client")
            for each in self.slots:
                each.response.clear()
            self.response_headers = headers
            self.response_trailers = None
            self.response_body_size = len(reply.body)
            self.downstream_response = HttpMessage(headers.copy(), bytearray(reply.body), None, True)
            self._ended = True
        else:
            self.reset(f"local reply from {'plugin ' + reply.plugin if reply.plugin else 'the proxy'} after the client "
                       f"got the response headers")
        self.schedule_pump()

    def reset(self, reason: str) -> None:
        """End the stream abruptly (``proxy_close_stream``)."""
        if self.completed or self._ended:
            return
        self.reset_reason = reason
        self.services.trace.event("reset", self.name, reason=reason)
        self._request_aborted = True
        for slot in self.slots:
            slot.request.clear()
            slot.response.clear()
        self._ended = True
        self.schedule_pump()

    # --- the end ---------------------------------------------------------------------------

    def finish(self) -> None:
        """Run the proxy until this stream has ended; if it can make no more
        progress (module docstring) it is reported as stalled, with who holds
        it, and its plugins' end-of-stream callbacks run as for any stream."""
        if self.settle(lambda: self.completed):
            self.stall()
            self.services.scheduler.run_due()

    def stall(self) -> None:
        """End the stream as stalled (it cannot move: module docstring)."""
        if self.completed or self._ended:
            return
        self.stalled = self._stall_reason()
        self.services.trace.event("stalled", self.name, reason=self.stalled)
        self._ended = True
        self.schedule_pump()

    def _stall_reason(self) -> str:
        for slot in self.slots:
            for stream_type in (StreamType.REQUEST, StreamType.RESPONSE):
                state = slot.direction(stream_type)
                direction = stream_type.name.lower()
                if state.held is not None:
                    return (f"{direction} paused by plugin {slot.plugin.name} in proxy_on_{direction}_"
                            f"{state.held.kind.value} and never resumed")
                if state.body_paused:
                    return (f"{direction} body buffered by plugin {slot.plugin.name} (paused in "
                            f"proxy_on_{direction}_body) and never resumed")
        pending = [call for call in self.http_calls if call.pending]
        if pending:
            return f"waiting for HTTP call {pending[0].plugin.name}#{pending[0].token} to {pending[0].upstream}"
        if not self._request_ended and not self._request_aborted:
            return "the client never finished the request"
        if self.origin is None and not self._response_started:
            return "no response: the stream has no origin answer and none was sent"
        return "the response never ended"

    def _end_lifecycle(self) -> Iterator[None]:
        """``proxy_on_log`` for every plugin, then ``proxy_on_done`` and
        ``proxy_on_delete`` plugin by plugin; one callback per step."""
        self.end_time_ns = self.services.scheduler.wall_time_ns()
        self.services.trace.event("stream_end", self.name)
        for slot in self.slots:
            if slot.plugin.failed:
                continue
            if slot.context is None:
                if self._create_context(slot):
                    yield
                if slot.plugin.failed:
                    continue
            slot.logging = True
            try:
                self._run(slot, "proxy_on_log", [slot.context.id])
            finally:
                slot.logging = False
            yield
        for slot in self.slots:
            context = slot.context
            if context is None:
                continue
            if not slot.plugin.failed:
                outcome = self._run(slot, "proxy_on_done", [context.id])
                if outcome.called and outcome.result == 0:
                    self.done_ignored.append(slot.plugin.name)
                yield
            if not slot.plugin.failed:
                self._run(slot, "proxy_on_delete", [context.id])
                yield
            slot.plugin.vm.remove_context(context)

    # --- looking at it ------------------------------------------------------------------------

    @property
    def request_body(self) -> bytes:
        """The request body as it is now: what reached the origin, then what
        is buffered or waiting at each plugin on the way."""
        return self._body(StreamType.REQUEST)

    @property
    def response_body(self) -> bytes:
        return self._body(StreamType.RESPONSE)

    def _body(self, stream_type: StreamType) -> bytes:
        end = self.upstream_request if stream_type is StreamType.REQUEST else self.downstream_response
        parts = [bytes(end.body)] if end is not None else []
        slots = reversed(self.slots) if stream_type is StreamType.REQUEST else iter(self.slots)
        for slot in slots:
            state = slot.direction(stream_type)
            if state.body is not None:
                parts.append(bytes(state.body))
            parts.extend(event.data for event in state.queue if event.kind is EventKind.DATA)
        return b"".join(parts)

    def to_report(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "plugins": [f"{slot.plugin.name}#{slot.plugin.generation}" if slot.plugin.generation
                        else slot.plugin.name for slot in self.slots],
            "upstream_request": self.upstream_request.to_report() if self.upstream_request else None,
            "downstream_response": (self.downstream_response.to_report(with_status=True)
                                    if self.downstream_response else None),
            "local_response": self.local_response.to_report() if self.local_response else None,
            "http_calls": [call.to_report() for call in self.http_calls],
            "grpc_calls": [call.to_report() for call in self.grpc_calls],
            "stalled": self.stalled,
            "reset": self.reset_reason,
            "failed_by": self.failed_by,
        }

    def __repr__(self) -> str:
        return f"<HttpStream {self.name}>"


def _record(message: HttpMessage | None, chunk: bytes, end_of_stream: bool) -> None:
    if message is not None:
        message.body += chunk
        message.end_of_stream = end_of_stream


def _record_trailers(message: HttpMessage | None, trailers: HeaderMap) -> None:
    if message is not None:
        message.trailers = trailers.copy()
        message.end_of_stream = True


def _reply_headers(reply: LocalResponse) -> HeaderMap:
    headers = HeaderMap([(":status", str(reply.status))])
    for name, value in reply.headers:
        headers.add(name, value)
    if reply.body:
        headers.replace("content-length", str(len(reply.body)))
        if headers.get("content-type") is None:
            headers.add("content-type", "text/plain")
    return headers


def _receive(message: HttpMessage, event: StreamEvent, trailers: HeaderMap | None) -> bool:
    """Add what ``event`` brings to the message an end of the stream
    received; whether that completed it."""
    if event.kind is EventKind.DATA:
        message.body += event.data
    elif event.kind is EventKind.TRAILERS:
        message.trailers = (trailers or HeaderMap()).copy()
    if event.end_of_stream:
        message.end_of_stream = True
    return event.end_of_stream
