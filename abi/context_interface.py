"""The boundary between the ABI and the simulated proxy, one small interface
per ABI area — as proxy-wasm-cpp-host's ``context_interface.h`` separates the
host functions from the proxy that serves them.

Host functions (``abi.hostcalls``) decode the guest's pointers and sizes,
then call these interfaces with plain values: bytes, ints and the ABI's
enums.  The proxy side (``abi.proxy``) implements them and never sees guest
memory.  Every operation either returns its result or raises
``StatusError`` with the status the host function answers; an operation
that changes what happens next (continue a stream, send a local reply, set
a timer) takes effect when the running callback returns, as in Envoy.

The interfaces are reached through the *effective context* of the calling
plugin (``ContextInterface``): the context a callback runs for, or the one
``proxy_set_effective_context`` switched to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from abi.enums import BufferType, LogLevel, MapType, MetricType, Status, StreamType

Pairs = Sequence[tuple[bytes, bytes]]
"""A header map or gRPC metadata as the guest sends it: (name, value) bytes."""


class StatusError(Exception):
    """Ends a host call with ``status``; ``reason`` says why, for the trace."""

    def __init__(self, status: Status, reason: str = "") -> None:
        super().__init__(reason or status.name)
        self.status = status
        self.reason = reason


class LimitExceeded(Exception):
    """An operation would make the host cross one of its limits
    (``abi.proxy.limits``), which ``limit`` names: the plugin fails with a
    ``resource limit`` error."""

    def __init__(self, limit: str, what: str) -> None:
        super().__init__(f"{what} (limits.{limit})")
        self.limit = limit


class Logging(Protocol):
    """``proxy_log``, ``proxy_get_log_level``, and the WASI standard output
    and error of the plugin (lines as info and error logs)."""

    def log(self, level: LogLevel, message: bytes) -> None: ...

    def log_level(self) -> LogLevel: ...


class Clock(Protocol):
    """``proxy_get_current_time_nanoseconds``."""

    def now_ns(self) -> int: ...


class HeaderMaps(Protocol):
    """The ``proxy_*_header_map_*`` calls.  A map the context cannot reach
    now answers BAD_ARGUMENT, except ``pairs`` (an empty map)."""

    def pairs(self, map_type: MapType) -> list[tuple[bytes, bytes]]: ...

    def value(self, map_type: MapType, name: bytes) -> bytes | None: ...

    def add(self, map_type: MapType, name: bytes, value: bytes) -> None: ...

    def replace(self, map_type: MapType, name: bytes, value: bytes) -> None: ...

    def remove(self, map_type: MapType, name: bytes) -> None: ...

    def set_pairs(self, map_type: MapType, pairs: Pairs) -> None: ...

    def size(self, map_type: MapType) -> int: ...


class Buffers(Protocol):
    """``proxy_get_buffer_bytes``, ``proxy_set_buffer_bytes``,
    ``proxy_get_buffer_status`` and 0.1.0's ``proxy_get_configuration``.  A
    buffer that does not exist now answers NOT_FOUND."""

    def read(self, buffer_type: BufferType, start: int, max_size: int) -> bytes: ...

    def size(self, buffer_type: BufferType) -> int: ...

    def write(self, buffer_type: BufferType, start: int, length: int, data: bytes) -> None: ...

    def configuration(self) -> bytes: ...


class StreamControl(Protocol):
    """Continuing, closing and answering the context's stream or connection
    (``proxy_continue_stream``, ``proxy_close_stream``,
    ``proxy_send_local_response``, 0.1.0's ``proxy_continue_request`` /
    ``_response`` and ``proxy_clear_route_cache``).  The result is a note
    for the trace (what the call acted on)."""

    def continue_stream(self, stream_type: StreamType) -> str: ...

    def close_stream(self, stream_type: StreamType) -> str: ...

    def send_local_response(self, status: int, details: bytes, body: bytes, headers: Pairs,
                            grpc_status: int | None) -> str: ...

    def clear_route_cache(self) -> str: ...


class Lifecycle(Protocol):
    """``proxy_done``: a root context that answered false to
    ``proxy_on_done`` says it has finished."""

    def done(self) -> None: ...


class HttpCallouts(Protocol):
    """``proxy_http_call``: the call's token."""

    def http_call(self, cluster: bytes, headers: Pairs, body: bytes, trailers: Pairs, timeout_ms: int) -> int: ...


class GrpcCallouts(Protocol):
    """``proxy_grpc_call``, ``proxy_grpc_stream``, ``proxy_grpc_send``,
    ``proxy_grpc_close`` and ``proxy_grpc_cancel``."""

    def grpc_call(self, service: bytes, service_name: bytes, method: bytes, metadata: Pairs, message: bytes,
                  timeout_ms: int) -> int: ...

    def grpc_stream(self, service: bytes, service_name: bytes, method: bytes, metadata: Pairs) -> int: ...

    def grpc_send(self, token: int, message: bytes, end_of_stream: bool) -> None: ...

    def grpc_close(self, token: int) -> None: ...

    def grpc_cancel(self, token: int) -> None: ...


class CalloutStatus(Protocol):
    """``proxy_get_status``: the status of the callout whose answer is being
    delivered — (0, "") when it succeeded."""

    def status(self) -> tuple[int, bytes]: ...


class Properties(Protocol):
    """``proxy_get_property`` and ``proxy_set_property``; a path is its
    segments."""

    def get(self, path: tuple[bytes, ...]) -> bytes | None: ...

    def set(self, path: tuple[bytes, ...], value: bytes) -> None: ...


class Metrics(Protocol):
    """``proxy_define_metric``, ``proxy_increment_metric``,
    ``proxy_record_metric`` and ``proxy_get_metric``."""

    def define(self, metric_type: MetricType, name: bytes) -> int: ...

    def increment(self, metric_id: int, delta: int) -> None: ...

    def record(self, metric_id: int, value: int) -> None: ...

    def get(self, metric_id: int) -> int: ...


class Timers(Protocol):
    """``proxy_set_tick_period_milliseconds``, for the context's root."""

    def set_tick_period(self, period_ms: int) -> None: ...


class SharedData(Protocol):
    """``proxy_get_shared_data`` (value and cas) and
    ``proxy_set_shared_data`` (cas 0: unconditional)."""

    def get(self, key: bytes) -> tuple[bytes, int]: ...

    def set(self, key: bytes, value: bytes, cas: int) -> None: ...


class SharedQueues(Protocol):
    """``proxy_register_shared_queue``, ``proxy_resolve_shared_queue``,
    ``proxy_enqueue_shared_queue`` and ``proxy_dequeue_shared_queue``."""

    def register(self, name: bytes) -> int: ...

    def resolve(self, vm_id: bytes, name: bytes) -> int: ...

    def enqueue(self, queue_id: int, value: bytes) -> None: ...

    def dequeue(self, queue_id: int) -> bytes: ...


class ForeignFunctions(Protocol):
    """``proxy_call_foreign_function``: the function's result."""

    def call(self, name: bytes, arguments: bytes) -> bytes: ...


class ContextInterface(Protocol):
    """A context of a plugin as host calls see it: its id (per VM), who it
    belongs to (for traces and logs), and one interface per ABI area."""

    id: int
    plugin_name: str
    stream_name: str | None
    logging: Logging
    clock: Clock
    headers: HeaderMaps
    buffers: Buffers
    stream: StreamControl
    lifecycle: Lifecycle
    http_calls: HttpCallouts
    grpc_calls: GrpcCallouts
    callout_status: CalloutStatus
    properties: Properties
    metrics: Metrics
    timers: Timers
    shared_data: SharedData
    shared_queues: SharedQueues
    foreign_functions: ForeignFunctions
