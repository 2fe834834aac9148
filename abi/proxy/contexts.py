"""What the simulated proxy shows a plugin through each context: the pieces
of ``abi.context_interface`` that do not depend on a stream or connection,
and the base every context kind builds on.

The kinds of context (each module implements the areas that differ):

* the *start context* of a VM (``abi.proxy.plugins``), while the module
  starts: logging, the clock, properties, metrics, shared data and foreign
  functions work; there is no root context yet for timers, queues or
  callouts (BAD_ARGUMENT), no map and only the VM configuration buffer, as
  Envoy only lets a few calls through while a VM starts;
* a *root context* per plugin (``abi.proxy.plugins``);
* an *HTTP context* per plugin and stream (``abi.proxy.http_stream``);
* a *network context* per plugin and connection (``abi.proxy.connection``).

A root context and its stream contexts share what belongs to the plugin:
its timer, its queues, its callout answers.  While an answer is delivered
its maps (HTTP call response headers and trailers, gRPC metadata) and
buffers (HTTP call response body, gRPC message, foreign-function arguments)
are readable — read-only — from any context of the plugin, as Envoy reads
them through ``rootContext()``.

Buffer edits follow Envoy's ``Buffer::copyFrom``: ``start`` 0 and ``length``
0 prepend; ``start`` 0 and ``length`` at least the size replace everything;
``start`` at or past the end appends; anything else is BAD_ARGUMENT.
Reading with ``start`` past the end is BAD_ARGUMENT; ``max_size`` is clipped
to what is there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from abi.context_interface import (
    CalloutStatus,
    GrpcCallouts,
    HttpCallouts,
    Lifecycle,
    LimitExceeded,
    Pairs,
    SharedQueues,
    StatusError,
    Timers,
)
from abi.enums import BufferType, MapType, Status, StreamType
from abi.context_interface import ContextInterface
from abi.proxy.callbacks import CallbackTarget, CalloutDelivery
from abi.proxy.grpc_callouts import GrpcKind
from abi.proxy.headers import HeaderMap
from abi.proxy.limits import HostLimits
from abi.proxy.logs import ContextLogging
from abi.proxy.metrics import VmMetrics
from abi.proxy.properties import ContextProperties, PropertyPath, PropertyScope
from abi.proxy.scheduler import Scheduler
from abi.proxy.services import ProxyServices
from abi.proxy.shared_data import VmSharedData
from abi.wire.text import ascii_lower, from_wire, to_wire

CALLOUT_MAPS = (MapType.GRPC_INITIAL_METADATA, MapType.GRPC_TRAILING_METADATA,
                MapType.HTTP_CALL_RESPONSE_HEADERS, MapType.HTTP_CALL_RESPONSE_TRAILERS)
CALLOUT_BUFFERS = (BufferType.HTTP_CALL_RESPONSE_BODY, BufferType.GRPC_RECEIVE_BUFFER,
                   BufferType.FOREIGN_FUNCTION_ARGUMENTS)


class ClockReader:
    """``abi.context_interface.Clock``: the proxy's simulated clock."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def now_ns(self) -> int:
        return self.scheduler.read_clock()


class DeliverySource(Protocol):
    """Whatever holds the callout answer being delivered (a root context)."""

    delivery: CalloutDelivery | None


# --- header maps ---------------------------------------------------------------------------------


class HeaderMapAccess:
    """``abi.context_interface.HeaderMaps`` over whatever maps a context can
    reach: subclasses say which map is readable and which writable now.

    The host's header limits bound what each context adds: a change that
    would make this context's net growth of a map pass ``max_header_count``
    headers or ``max_header_bytes`` bytes fails the plugin
    (``abi.proxy.limits``).  Counting each plugin's own growth, rather than
    the map's size, keeps a healthy plugin from being failed for headers
    another plugin piled up."""

    def __init__(self, callouts: DeliverySource | None, limits: HostLimits | None = None) -> None:
        self.callouts = callouts
        self.limits = limits or HostLimits()
        self._growth: dict[MapType, tuple[int, int]] = {}

    def readable(self, map_type: MapType) -> HeaderMap | None:
        if map_type in CALLOUT_MAPS:
            return callout_map(self.callouts, map_type)
        return None

    def writable(self, map_type: MapType) -> HeaderMap | None:
        return None

    def _existing(self, map_type: MapType, write: bool) -> HeaderMap:
        headers = self.writable(map_type) if write else self.readable(map_type)
        if headers is None:
            action = "changed" if write else "read"
            raise StatusError(Status.BAD_ARGUMENT, f"{map_type.name} cannot be {action} now")
        return headers

    def pairs(self, map_type: MapType) -> list[tuple[bytes, bytes]]:
        headers = self.readable(map_type)
        return headers.wire_pairs() if headers is not None else []

    def value(self, map_type: MapType, name: bytes) -> bytes | None:
        value = self._existing(map_type, write=False).get(name)
        return None if value is None else to_wire(value)

    def _change(self, map_type: MapType, change: Callable[[HeaderMap], None]) -> None:
        headers = self._existing(map_type, write=True)
        changed = headers.copy()
        change(changed)
        count, size = self._growth.get(map_type, (0, 0))
        count += len(changed) - len(headers)
        size += changed.byte_size() - headers.byte_size()
        limit = ("max_header_count" if count > self.limits.max_header_count
                 else "max_header_bytes" if size > self.limits.max_header_bytes else None)
        if limit is not None:
            raise LimitExceeded(limit, f"the plugin would have added {count} headers of {size} bytes to the "
                                       f"{map_type.name} map, more than {getattr(self.limits, limit)} "
                                       f"{'headers' if limit == 'max_header_count' else 'bytes'}")
        self._growth[map_type] = (count, size)
        headers.set_pairs(changed.wire_pairs())

    def add(self, map_type: MapType, name: bytes, value: bytes) -> None:
        self._change(map_type, lambda headers: headers.add(name, value))

    def replace(self, map_type: MapType, name: bytes, value: bytes) -> None:
        self._change(map_type, lambda headers: headers.replace(name, value))

    def remove(self, map_type: MapType, name: bytes) -> None:
        self._existing(map_type, write=True).remove(name)

    def set_pairs(self, map_type: MapType, pairs: Pairs) -> None:
        self._change(map_type, lambda headers: headers.set_pairs(pairs))

    def size(self, map_type: MapType) -> int:
        """The size of the pairs serialization, as the spec names it (Envoy
        answers the bytes of names and values)."""
        return self._existing(map_type, write=False).serialized_size()


def header_limit_exceeded(headers: HeaderMap, limits: HostLimits) -> str | None:
    """Which header limit ``headers`` crosses, if any."""
    if len(headers) > limits.max_header_count:
        return "max_header_count"
    if headers.byte_size() > limits.max_header_bytes:
        return "max_header_bytes"
    return None


def callout_map(source: DeliverySource | None, map_type: MapType) -> HeaderMap | None:
    delivery = source.delivery if source is not None else None
    if delivery is None:
        return None
    return {MapType.HTTP_CALL_RESPONSE_HEADERS: delivery.http_headers,
            MapType.HTTP_CALL_RESPONSE_TRAILERS: delivery.http_trailers,
            MapType.GRPC_INITIAL_METADATA: delivery.grpc_initial_metadata,
            MapType.GRPC_TRAILING_METADATA: delivery.grpc_trailing_metadata}.get(map_type)


# --- buffers --------------------------------------------------------------------------------------


class BufferAccess:
    """``abi.context_interface.Buffers``: subclasses say which buffers exist
    now (``buffer`` answers the bytes and whether they may be changed).  A
    write that would grow a buffer past ``max_body_bytes`` fails the plugin."""

    def __init__(self, callouts: DeliverySource | None, vm_configuration: bytes,
                 limits: HostLimits | None = None) -> None:
        self.callouts = callouts
        self.vm_configuration = vm_configuration
        self.limits = limits or HostLimits()

    def buffer(self, buffer_type: BufferType) -> tuple[bytes | bytearray, bool] | None:
        if buffer_type is BufferType.VM_CONFIGURATION:
            return self.vm_configuration, False
        if buffer_type in CALLOUT_BUFFERS:
            data = callout_buffer(self.callouts, buffer_type)
            return None if data is None else (data, False)
        return None

    def _existing(self, buffer_type: BufferType) -> tuple[bytes | bytearray, bool]:
        found = self.buffer(buffer_type)
        if found is None:
            raise StatusError(Status.NOT_FOUND, f"no {buffer_type.name} buffer now")
        return found

    def read(self, buffer_type: BufferType, start: int, max_size: int) -> bytes:
        data, _ = self._existing(buffer_type)
        if start > len(data):
            raise StatusError(Status.BAD_ARGUMENT, f"start {start} is past the end ({len(data)} bytes)")
        return bytes(data[start:start + max_size])

    def size(self, buffer_type: BufferType) -> int:
        return len(self._existing(buffer_type)[0])

    def write(self, buffer_type: BufferType, start: int, length: int, data: bytes) -> None:
        buffer, writable = self._existing(buffer_type)
        if not writable or not isinstance(buffer, bytearray):
            raise StatusError(Status.BAD_ARGUMENT, f"the {buffer_type.name} buffer is read-only")
        size = edited_size(len(buffer), start, length, len(data))
        if size > self.limits.max_body_bytes and size > len(buffer):
            raise LimitExceeded("max_body_bytes", f"the {buffer_type.name} buffer would hold {size} bytes, more "
                                                  f"than {self.limits.max_body_bytes}")
        edit_buffer(buffer, start, length, data)

    def configuration(self) -> bytes:
        """0.1.0's ``proxy_get_configuration``: the VM configuration (root
        contexts give the plugin configuration while it is being set up)."""
        return self.vm_configuration


def callout_buffer(source: DeliverySource | None, buffer_type: BufferType) -> bytes | None:
    delivery = source.delivery if source is not None else None
    if delivery is None:
        return None
    return {BufferType.HTTP_CALL_RESPONSE_BODY: delivery.http_body,
            BufferType.GRPC_RECEIVE_BUFFER: delivery.grpc_message,
            BufferType.FOREIGN_FUNCTION_ARGUMENTS: delivery.foreign_arguments}.get(buffer_type)


def edited_size(size: int, start: int, length: int, added: int) -> int:
    """The size a buffer of ``size`` bytes would have after ``edit_buffer``
    (or ``size`` when the edit is refused)."""
    if start == 0 and 0 < length < size:
        return size
    if start == 0 and length >= size and length != 0:
        return added
    return size + added


def edit_buffer(buffer: bytearray, start: int, length: int, data: bytes) -> None:
    """Envoy's prepend / replace / append rules (module docstring);
    BAD_ARGUMENT for the rest."""
    size = len(buffer)
    if start == 0 and length == 0:
        buffer[0:0] = data
    elif start == 0 and length >= size:
        buffer[:] = data
    elif start >= size:
        buffer += data
    else:
        raise StatusError(Status.BAD_ARGUMENT,
                          f"start {start}, length {length} on {size} bytes is neither a prepend "
                          f"(0, 0), a replace (0, >= size) nor an append (>= size, any)")


# --- stream control -------------------------------------------------------------------------------


class NoStreamControl:
    """``abi.context_interface.StreamControl`` for contexts without a stream
    or connection: as in Envoy, the calls answer OK and change nothing (the
    trace says so)."""

    def continue_stream(self, stream_type: StreamType) -> str:
        return "nothing: this context has no stream or connection"

    def close_stream(self, stream_type: StreamType) -> str:
        return "nothing: this context has no stream or connection"

    def send_local_response(self, status: int, details: bytes, body: bytes, headers: Pairs,
                            grpc_status: int | None) -> str:
        return "nothing: this context has no HTTP stream"

    def clear_route_cache(self) -> str:
        return "nothing: the simulated proxy has no route cache"


def local_reply_headers(headers: Pairs) -> tuple[tuple[str, str], ...]:
    """Reply headers as a plugin gives them, names lower-cased."""
    return tuple((from_wire(ascii_lower(bytes(name))), from_wire(value)) for name, value in headers)


# --- callouts ---------------------------------------------------------------------------------------


class CalloutOwner(Protocol):
    """A root context as its plugin's callouts see it."""

    id: int
    plugin: CallbackTarget
    delivery: CalloutDelivery | None


class PluginCallouts:
    """``HttpCallouts``, ``GrpcCallouts`` and ``CalloutStatus`` for one
    context: calls belong to the plugin's root context (answers go there)
    and remember the context that made them (``caller``)."""

    def __init__(self, services: ProxyServices, root: CalloutOwner, caller: ContextInterface) -> None:
        self.services = services
        self.root = root
        self.caller = caller

    def http_call(self, cluster: bytes, headers: Pairs, body: bytes, trailers: Pairs, timeout_ms: int) -> int:
        vm = self.root.plugin.vm
        return self.services.http_callouts.dispatch(self.root, self.caller, vm.next_http_call_token, cluster,
                                                    headers, body, trailers, timeout_ms).token

    def grpc_call(self, service: bytes, service_name: bytes, method: bytes, metadata: Pairs, message: bytes,
                  timeout_ms: int) -> int:
        return self.services.grpc_callouts.open(GrpcKind.CALL, self.root.plugin.vm.next_grpc_token, self.root,
                                                self.caller, service, service_name, method, metadata, message,
                                                timeout_ms).token

    def grpc_stream(self, service: bytes, service_name: bytes, method: bytes, metadata: Pairs) -> int:
        return self.services.grpc_callouts.open(GrpcKind.STREAM, self.root.plugin.vm.next_grpc_token, self.root,
                                                self.caller, service, service_name, method, metadata, None,
                                                0).token

    def grpc_send(self, token: int, message: bytes, end_of_stream: bool) -> None:
        self.services.grpc_callouts.send(self.root.plugin.vm, token, message, end_of_stream)

    def grpc_close(self, token: int) -> None:
        self.services.grpc_callouts.close(self.root.plugin.vm, token)

    def grpc_cancel(self, token: int) -> None:
        self.services.grpc_callouts.cancel(self.root.plugin.vm, token)

    def status(self) -> tuple[int, bytes]:
        delivery = self.root.delivery
        return delivery.status if delivery is not None else (0, b"")


# --- what needs a root context ---------------------------------------------------------------------


class NotInRoot:
    """Timers, queues and callouts while no root context exists (a VM
    starting): BAD_ARGUMENT."""

    def _refuse(self) -> StatusError:
        return StatusError(Status.BAD_ARGUMENT, "not while the VM starts: there is no root context yet")

    def set_tick_period(self, period_ms: int) -> None:
        raise self._refuse()

    def register(self, name: bytes) -> int:
        raise self._refuse()

    def resolve(self, vm_id: bytes, name: bytes) -> int:
        raise self._refuse()

    def enqueue(self, queue_id: int, value: bytes) -> None:
        raise self._refuse()

    def dequeue(self, queue_id: int) -> bytes:
        raise self._refuse()

    def http_call(self, cluster: bytes, headers: Pairs, body: bytes, trailers: Pairs, timeout_ms: int) -> int:
        raise self._refuse()

    def grpc_call(self, service: bytes, service_name: bytes, method: bytes, metadata: Pairs, message: bytes,
                  timeout_ms: int) -> int:
        raise self._refuse()

    def grpc_stream(self, service: bytes, service_name: bytes, method: bytes, metadata: Pairs) -> int:
        raise self._refuse()

    def grpc_send(self, token: int, message: bytes, end_of_stream: bool) -> None:
        raise self._refuse()

    def grpc_close(self, token: int) -> None:
        raise self._refuse()

    def grpc_cancel(self, token: int) -> None:
        raise self._refuse()

    def status(self) -> tuple[int, bytes]:
        return 0, b""

    def done(self) -> None:
        raise StatusError(Status.NOT_FOUND, "the context is not waiting to be finished")


class NotWaitingForDone:
    """``proxy_done`` from a context that is not a root context waiting for
    it: NOT_FOUND (Envoy ignores a stream context's false ``proxy_on_done``)."""

    def done(self) -> None:
        raise StatusError(Status.NOT_FOUND, "the context is not waiting to be finished")


# --- the base ---------------------------------------------------------------------------------------


class ProxyContext:
    """What every context of a plugin shares (see the module docstring).
    ``plugin_values`` are the ``plugin_*`` properties; ``scope`` the stream
    or connection properties come from (``None`` for root contexts)."""

    headers: HeaderMapAccess
    buffers: BufferAccess
    stream: NoStreamControl
    lifecycle: Lifecycle
    timers: Timers
    shared_queues: SharedQueues
    http_calls: HttpCallouts
    grpc_calls: GrpcCallouts
    callout_status: CalloutStatus

    def __init__(self, context_id: int, plugin_name: str, stream_name: str | None, services: ProxyServices,
                 metrics: VmMetrics, vm_id: str, plugin_values: dict[PropertyPath, str],
                 scope: PropertyScope | None) -> None:
        self.id = context_id
        self.plugin_name = plugin_name
        self.stream_name = stream_name
        self.services = services
        self.logging = ContextLogging(services.logs, plugin_name, stream_name, context_id)
        self.clock = ClockReader(services.scheduler)
        self.metrics = metrics
        self.shared_data = VmSharedData(services.shared_data, vm_id.encode("utf-8"))
        self.foreign_functions = services.foreign_functions
        self.properties = ContextProperties(services.properties, plugin_values, scope)

    def describe(self) -> str:
        where = f" on {self.stream_name}" if self.stream_name else ""
        return f"{self.plugin_name} context {self.id}{where}"

