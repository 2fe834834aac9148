"""Stream control and contexts: ``proxy_continue_stream``,
``proxy_close_stream``, ``proxy_send_local_response``,
``proxy_set_effective_context``, ``proxy_done``, and the 0.1.0
``proxy_continue_request``, ``proxy_continue_response`` and
``proxy_clear_route_cache``.

Continuing, closing and replying act on the effective context's stream and
take effect when the callback returns (Envoy defers them the same way), so a
plugin may send a local reply and then return PAUSE, as SDKs do.  From a
root context they change nothing and answer OK, as in Envoy — the trace shows
such a call was made with no stream to act on (``"stream": null``).

``proxy_continue_stream`` and ``proxy_close_stream`` answer BAD_ARGUMENT for
an unknown stream type; for DOWNSTREAM and UPSTREAM (TCP streams, which an
HTTP filter does not have) continuing is UNIMPLEMENTED, as the spec allows,
and closing does nothing.

``proxy_send_local_response``: see ``abi.stream`` for where the reply goes.
A ``grpc_status`` of 0xFFFFFFFF (-1) means "not gRPC".

``proxy_done`` is OK only for a root context whose ``proxy_on_done`` answered
false at shutdown; its ``proxy_on_delete`` follows when the callback returns.
Anything else is NOT_FOUND (Envoy ignores a stream context's false
``proxy_on_done`` and deletes it at once).
"""

from __future__ import annotations

from abi.enums import Status, StreamType
from abi.hostcalls.base import Bytes, Enum, HostCall, Pairs, StatusError, Text, U32, host_call
from abi.records import LocalResponse
from abi.text import ascii_lower, from_wire

NOT_GRPC = 0xFFFF_FFFF


def _defer_on_stream(call: HostCall, action: str, apply: object) -> Status:
    """Queue ``apply(slot)`` for the effective context's stream."""
    context = call.context
    if context is None or context.slot is None:
        call.result(stream=None, note=f"{action} from a root context changes nothing")
        return Status.OK
    slot = context.slot
    call.result(stream=slot.stream.name)
    call.frame.deferred.append(lambda: apply(slot))  # type: ignore[operator,union-attr]
    return Status.OK


@host_call("proxy_continue_stream", Enum("stream_type", StreamType))
def proxy_continue_stream(call: HostCall, stream_type: StreamType) -> Status:
    if stream_type not in (StreamType.REQUEST, StreamType.RESPONSE):
        raise StatusError(Status.UNIMPLEMENTED, "an HTTP filter has no TCP stream to continue")
    return _defer_on_stream(call, "continuing", lambda slot: slot.resume(stream_type))


@host_call("proxy_close_stream", Enum("stream_type", StreamType))
def proxy_close_stream(call: HostCall, stream_type: StreamType) -> Status:
    if stream_type not in (StreamType.REQUEST, StreamType.RESPONSE):
        call.result(note="an HTTP filter has no TCP stream to close")
        return Status.OK
    plugin = call.plugin.name
    return _defer_on_stream(call, "closing",
                            lambda slot: slot.stream.reset(f"closed by plugin {plugin} "
                                                           f"({stream_type.name.lower()})"))


@host_call("proxy_continue_request")
def proxy_continue_request(call: HostCall) -> Status:
    return _defer_on_stream(call, "continuing", lambda slot: slot.resume(StreamType.REQUEST))


@host_call("proxy_continue_response")
def proxy_continue_response(call: HostCall) -> Status:
    return _defer_on_stream(call, "continuing", lambda slot: slot.resume(StreamType.RESPONSE))


@host_call("proxy_clear_route_cache")
def proxy_clear_route_cache(call: HostCall) -> Status:
    return Status.OK


@host_call("proxy_send_local_response", U32("status_code"), Text("details"), Bytes("body"), Pairs("headers"),
           U32("grpc_status"))
def proxy_send_local_response(call: HostCall, status_code: int, details: str, body: bytes,
                              headers: list[tuple[bytes, bytes]], grpc_status: int) -> Status:
    reply = LocalResponse(
        status=status_code,
        details=details,
        body=body,
        headers=tuple((ascii_lower(from_wire(name)), from_wire(value)) for name, value in headers),
        grpc_status=None if grpc_status == NOT_GRPC else grpc_status,
        plugin=call.plugin.name,
    )
    return _defer_on_stream(call, "a local response", lambda slot: slot.stream.send_local_response(slot, reply))


@host_call("proxy_set_effective_context", U32("context_id"))
def proxy_set_effective_context(call: HostCall, context_id: int) -> Status:
    context = call.plugin.contexts.get(context_id)
    if context is None or call.frame is None:
        raise StatusError(Status.BAD_ARGUMENT, f"no context {context_id}")
    call.frame.effective = context
    call.result(stream=context.stream_name)
    return Status.OK


@host_call("proxy_done")
def proxy_done(call: HostCall) -> Status:
    plugin = call.plugin
    context = call.context
    if context is None or context is not plugin.root_context or not plugin.root_done_pending:
        raise StatusError(Status.NOT_FOUND, "the context is not waiting to be finished")
    plugin.root_done_pending = False
    call.frame.deferred.append(lambda: plugin.host.delete_root_context(plugin))  # type: ignore[union-attr]
    return Status.OK
