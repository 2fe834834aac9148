"""HTTP calls: ``proxy_http_call`` and ``proxy_get_status``.

``proxy_http_call`` writes 0 to the token pointer first (so a bad pointer is
INVALID_MEMORY_ACCESS before anything is sent), refuses a timeout that is
negative as a signed 32-bit number (BAD_ARGUMENT, as Envoy), then hands the
call to the proxy (``abi.proxy.http_callouts``), which checks the cluster
and the headers.
"""

from __future__ import annotations

from abi.context_interface import StatusError
from abi.enums import Status
from abi.hostcalls.declaration import Bytes, HostCall, Out, Pairs, U32, host_call
from abi.wire.text import readable


@host_call("proxy_http_call", Bytes("upstream"), Pairs("headers"), Bytes("body"), Pairs("trailers"),
           U32("timeout_ms"), Out("token_out"))
def proxy_http_call(call: HostCall, upstream: bytes, headers: list[tuple[bytes, bytes]], body: bytes,
                    trailers: list[tuple[bytes, bytes]], timeout_ms: int, token_out: int) -> Status:
    call.memory.write_u32(token_out, 0)
    if timeout_ms >= 1 << 31:
        raise StatusError(Status.BAD_ARGUMENT, f"negative timeout {timeout_ms - (1 << 32)}")
    token = call.context.http_calls.http_call(upstream, headers, body, trailers, timeout_ms)
    call.memory.write_u32(token_out, token)
    call.result(token=token)
    return Status.OK


@host_call("proxy_get_status", Out("code_out"), Out("message_data_out"), Out("message_size_out"))
def proxy_get_status(call: HostCall, code_out: int, message_data_out: int, message_size_out: int) -> Status:
    code, message = call.context.callout_status.status()
    call.memory.write_u32(code_out, code)
    call.hand_over(message, message_data_out, message_size_out)
    call.result(code=code, message=readable(message))
    return Status.OK
