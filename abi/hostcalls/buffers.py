"""Buffers: ``proxy_get_buffer_bytes``, ``proxy_set_buffer_bytes``,
``proxy_get_buffer_status``, and 0.1.0's ``proxy_get_configuration``.

Which buffer exists when, and how a write edits it, is the proxy's business
(``abi.proxy.context``); a buffer that does not exist now is NOT_FOUND.
"""

from __future__ import annotations

from abi.enums import BufferType, Status
from abi.hostcalls.declaration import Bytes, Enum, HostCall, Out, U32, host_call
from abi.wire.text import readable


@host_call("proxy_get_buffer_bytes", Enum("buffer", BufferType), U32("start"), U32("max_size"),
           Out("data_out"), Out("size_out"))
def proxy_get_buffer_bytes(call: HostCall, buffer_type: BufferType, start: int, max_size: int,
                           data_out: int, size_out: int) -> Status:
    chunk = call.context.buffers.read(buffer_type, start, max_size)
    call.hand_over(chunk, data_out, size_out)
    call.result(data=readable(chunk))
    return Status.OK


@host_call("proxy_set_buffer_bytes", Enum("buffer", BufferType), U32("start"), U32("length"), Bytes("data"))
def proxy_set_buffer_bytes(call: HostCall, buffer_type: BufferType, start: int, length: int,
                           data: bytes) -> Status:
    call.context.buffers.write(buffer_type, start, length, data)
    call.result(size=call.context.buffers.size(buffer_type))
    return Status.OK


@host_call("proxy_get_buffer_status", Enum("buffer", BufferType), Out("size_out"), Out("flags_out"))
def proxy_get_buffer_status(call: HostCall, buffer_type: BufferType, size_out: int, flags_out: int) -> Status:
    size = call.context.buffers.size(buffer_type)
    call.memory.check(size_out, 4)
    call.memory.check(flags_out, 4)
    call.memory.write_u32(size_out, size)
    call.memory.write_u32(flags_out, 0)
    call.result(size=size)
    return Status.OK


@host_call("proxy_get_configuration", Out("data_out"), Out("size_out"))
def proxy_get_configuration(call: HostCall, data_out: int, size_out: int) -> Status:
    """ABI 0.1.0's way to read the configuration, still served by Envoy."""
    data = call.context.buffers.configuration()
    call.hand_over(data, data_out, size_out)
    call.result(data=readable(data))
    return Status.OK
