"""HTTP calls: ``proxy_http_call`` and ``proxy_get_status`` (see
``abi.http_calls`` for dispatch and delivery).

``proxy_http_call`` checks, in Envoy's order: the token pointer is writable
(INVALID_MEMORY_ACCESS), the timeout is not negative as a signed 32-bit
number (BAD_ARGUMENT), the cluster is known (BAD_ARGUMENT), and the headers
have ``:method``, ``:path`` and ``:authority`` (BAD_ARGUMENT).  Header names
are lower-cased.  A call made from the answer to a call made from the
answer ... more than ``MAX_CALL_CHAIN`` times in a row is INTERNAL_FAILURE
(canned answers come at once, so an always-calling plugin would never stop).
"""

from __future__ import annotations

from abi.enums import Status
from abi.headers import HeaderMap
from abi.hostcalls.base import Bytes, HostCall, Out, Pairs, StatusError, Text, U32, host_call
from abi.http_calls import CallChainTooLong

REQUIRED_HEADERS = (":method", ":path", ":authority")


@host_call("proxy_http_call", Text("upstream"), Pairs("headers"), Bytes("body"), Pairs("trailers"),
           U32("timeout_ms"), Out("token_out"))
def proxy_http_call(call: HostCall, upstream: str, headers: list[tuple[bytes, bytes]], body: bytes,
                    trailers: list[tuple[bytes, bytes]], timeout_ms: int, token_out: int) -> Status:
    call.memory.write_u32(token_out, 0)
    if timeout_ms >= 1 << 31:
        raise StatusError(Status.BAD_ARGUMENT, f"negative timeout {timeout_ms - (1 << 32)}")
    dispatcher = call.plugin.host.http_calls
    if upstream not in dispatcher.upstreams:
        raise StatusError(Status.BAD_ARGUMENT, f"unknown cluster {upstream!r}")
    request_headers = HeaderMap(headers)
    missing = [name for name in REQUIRED_HEADERS if request_headers.get(name) is None]
    if missing:
        raise StatusError(Status.BAD_ARGUMENT, f"the call's headers lack {', '.join(missing)}")
    try:
        http_call = dispatcher.dispatch(call.plugin, call.context, upstream, request_headers, body,
                                        HeaderMap(trailers), timeout_ms)
    except CallChainTooLong as error:
        raise StatusError(Status.INTERNAL_FAILURE, str(error)) from None
    call.memory.write_u32(token_out, http_call.token)
    call.result(token=http_call.token)
    return Status.OK


@host_call("proxy_get_status", Out("code_out"), Out("message_data_out"), Out("message_size_out"))
def proxy_get_status(call: HostCall, code_out: int, message_data_out: int, message_size_out: int) -> Status:
    code, message = call.frame.call_status if call.frame is not None else (0, "")
    call.memory.write_u32(code_out, code)
    call.hand_over(message.encode("utf-8"), message_data_out, message_size_out)
    call.result(code=code, message=message)
    return Status.OK
