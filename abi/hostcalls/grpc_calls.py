"""gRPC calls: ``proxy_grpc_call`` (unary), ``proxy_grpc_stream``,
``proxy_grpc_send``, ``proxy_grpc_close`` and ``proxy_grpc_cancel``.

The token pointer gets 0 before anything is sent; what the service argument
may be (a cluster name or a serialized ``GrpcService``), how the simulated
server answers, and which callbacks follow is the proxy's business
(``abi.proxy.grpc_callouts``).
"""

from __future__ import annotations

from abi.enums import Status
from abi.hostcalls.declaration import Bytes, HostCall, Out, Pairs, U32, host_call


@host_call("proxy_grpc_call", Bytes("service"), Bytes("service_name"), Bytes("method"), Pairs("metadata"),
           Bytes("message"), U32("timeout_ms"), Out("token_out"))
def proxy_grpc_call(call: HostCall, service: bytes, service_name: bytes, method: bytes,
                    metadata: list[tuple[bytes, bytes]], message: bytes, timeout_ms: int,
                    token_out: int) -> Status:
    call.memory.write_u32(token_out, 0)
    token = call.context.grpc_calls.grpc_call(service, service_name, method, metadata, message, timeout_ms)
    call.memory.write_u32(token_out, token)
    call.result(token=token)
    return Status.OK


@host_call("proxy_grpc_stream", Bytes("service"), Bytes("service_name"), Bytes("method"), Pairs("metadata"),
           Out("token_out"))
def proxy_grpc_stream(call: HostCall, service: bytes, service_name: bytes, method: bytes,
                      metadata: list[tuple[bytes, bytes]], token_out: int) -> Status:
    call.memory.write_u32(token_out, 0)
    token = call.context.grpc_calls.grpc_stream(service, service_name, method, metadata)
    call.memory.write_u32(token_out, token)
    call.result(token=token)
    return Status.OK


@host_call("proxy_grpc_send", U32("token"), Bytes("message"), U32("end_of_stream"))
def proxy_grpc_send(call: HostCall, token: int, message: bytes, end_of_stream: int) -> Status:
    call.context.grpc_calls.grpc_send(token, message, end_of_stream != 0)
    return Status.OK


@host_call("proxy_grpc_close", U32("token"))
def proxy_grpc_close(call: HostCall, token: int) -> Status:
    call.context.grpc_calls.grpc_close(token)
    return Status.OK


@host_call("proxy_grpc_cancel", U32("token"))
def proxy_grpc_cancel(call: HostCall, token: int) -> Status:
    call.context.grpc_calls.grpc_cancel(token)
    return Status.OK
