"""Stream control and contexts: ``proxy_continue_stream``,
``proxy_close_stream``, ``proxy_send_local_response``,
``proxy_set_effective_context``, ``proxy_done``, and 0.1.0's
``proxy_continue_request``, ``proxy_continue_response`` and
``proxy_clear_route_cache``.

Continuing, closing and replying act on the effective context's stream or
connection and take effect when the callback returns (Envoy defers them the
same way), so a plugin may send a local reply and then return PAUSE, as SDKs
do.  ``proxy_set_effective_context`` switches to any context of the calling
VM (BAD_ARGUMENT for an unknown id).  A ``grpc_status`` of 0xFFFFFFFF (-1)
in a local reply means "not gRPC".
"""

from __future__ import annotations

from abi.context_interface import StatusError
from abi.enums import Status, StreamType
from abi.hostcalls.declaration import Bytes, Enum, HostCall, Pairs, U32, host_call

NOT_GRPC = 0xFFFF_FFFF


@host_call("proxy_continue_stream", Enum("stream_type", StreamType))
def proxy_continue_stream(call: HostCall, stream_type: StreamType) -> Status:
    call.result(effect=call.context.stream.continue_stream(stream_type))
    return Status.OK


@host_call("proxy_close_stream", Enum("stream_type", StreamType))
def proxy_close_stream(call: HostCall, stream_type: StreamType) -> Status:
    call.result(effect=call.context.stream.close_stream(stream_type))
    return Status.OK


@host_call("proxy_continue_request")
def proxy_continue_request(call: HostCall) -> Status:
    call.result(effect=call.context.stream.continue_stream(StreamType.REQUEST))
    return Status.OK


@host_call("proxy_continue_response")
def proxy_continue_response(call: HostCall) -> Status:
    call.result(effect=call.context.stream.continue_stream(StreamType.RESPONSE))
    return Status.OK


@host_call("proxy_clear_route_cache")
def proxy_clear_route_cache(call: HostCall) -> Status:
    call.result(effect=call.context.stream.clear_route_cache())
    return Status.OK


@host_call("proxy_send_local_response", U32("status_code"), Bytes("details"), Bytes("body"), Pairs("headers"),
           U32("grpc_status"))
def proxy_send_local_response(call: HostCall, status_code: int, details: bytes, body: bytes,
                              headers: list[tuple[bytes, bytes]], grpc_status: int) -> Status:
    effect = call.context.stream.send_local_response(status_code, details, body, headers,
                                                     None if grpc_status == NOT_GRPC else grpc_status)
    call.result(effect=effect)
    return Status.OK


@host_call("proxy_set_effective_context", U32("context_id"))
def proxy_set_effective_context(call: HostCall, context_id: int) -> Status:
    context = call.site.switch_effective_context(context_id)
    if context is None:
        raise StatusError(Status.BAD_ARGUMENT, f"no context {context_id}")
    call.result(stream=context.stream_name, plugin=context.plugin_name)
    return Status.OK


@host_call("proxy_done")
def proxy_done(call: HostCall) -> Status:
    call.context.lifecycle.done()
    return Status.OK


