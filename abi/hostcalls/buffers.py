"""Buffers: ``proxy_get_buffer_bytes``, ``proxy_set_buffer_bytes``,
``proxy_get_buffer_status``, and the 0.1.0 ``proxy_get_configuration``.

Which buffer exists when (else NOT_FOUND), following the spec and Envoy:

* ``REQUEST_BODY`` / ``RESPONSE_BODY`` — in the body callback of that
  direction, and for as long as the plugin keeps the body paused: the body
  buffered at this plugin so far (the current chunk included); writable;
* ``HTTP_CALL_RESPONSE_BODY`` — during ``proxy_on_http_call_response``, in any
  context of the plugin, unless the call failed; read-only;
* ``VM_CONFIGURATION`` — always (Envoy keeps it for the VM's life); read-only;
* ``PLUGIN_CONFIGURATION`` — while the root context is set up
  (``proxy_on_context_create``, ``proxy_on_vm_start``, ``proxy_on_configure``);
  read-only;
* the TCP, gRPC and foreign-function buffers never (no such traffic here).

Writing to a read-only buffer is BAD_ARGUMENT.  ``proxy_set_buffer_bytes``
does what Envoy's ``Buffer::copyFrom`` does: ``start`` 0 and ``length`` 0
prepend; ``start`` 0 and ``length`` at least the size replace everything;
``start`` at or past the end appends; anything else is BAD_ARGUMENT.
``proxy_get_buffer_bytes`` with ``start`` past the end is BAD_ARGUMENT;
``max_size`` is clipped to what is there.
"""

from __future__ import annotations

from abi.enums import BufferType, Status
from abi.hostcalls.base import Bytes, Enum, HostCall, Out, StatusError, U32, host_call
from abi.plugin import CallbackPhase
from abi.text import readable


def buffer_of(call: HostCall, buffer_type: BufferType) -> tuple[bytes | bytearray, bool]:
    """The buffer's bytes and whether the plugin may change them; NOT_FOUND
    when it does not exist now."""
    frame = call.frame
    context = call.context
    if buffer_type in (BufferType.REQUEST_BODY, BufferType.RESPONSE_BODY):
        if context is not None and context.slot is not None:
            body = context.slot.body_buffer(buffer_type)
            if body is not None:
                return body, True
    elif buffer_type is BufferType.HTTP_CALL_RESPONSE_BODY:
        if frame is not None and frame.http_response is not None and frame.http_response.failure is None:
            return frame.http_response.body, False
    elif buffer_type is BufferType.VM_CONFIGURATION:
        return call.plugin.config.vm_configuration_bytes, False
    elif buffer_type is BufferType.PLUGIN_CONFIGURATION:
        if frame is not None and frame.phase is CallbackPhase.SETUP:
            return call.plugin.config.configuration_bytes, False
    raise StatusError(Status.NOT_FOUND, f"no {buffer_type.name} buffer now")


@host_call("proxy_get_buffer_bytes", Enum("buffer", BufferType), U32("start"), U32("max_size"),
           Out("data_out"), Out("size_out"))
def proxy_get_buffer_bytes(call: HostCall, buffer_type: BufferType, start: int, max_size: int,
                           data_out: int, size_out: int) -> Status:
    data, _ = buffer_of(call, buffer_type)
    if start > len(data):
        raise StatusError(Status.BAD_ARGUMENT, f"start {start} is past the end ({len(data)} bytes)")
    chunk = bytes(data[start:start + max_size])
    call.hand_over(chunk, data_out, size_out)
    call.result(data=readable(chunk))
    return Status.OK


@host_call("proxy_set_buffer_bytes", Enum("buffer", BufferType), U32("start"), U32("length"), Bytes("data"))
def proxy_set_buffer_bytes(call: HostCall, buffer_type: BufferType, start: int, length: int,
                           data: bytes) -> Status:
    buffer, writable = buffer_of(call, buffer_type)
    if not writable or not isinstance(buffer, bytearray):
        raise StatusError(Status.BAD_ARGUMENT, f"the {buffer_type.name} buffer is read-only")
    edit_buffer(buffer, start, length, data)
    call.result(buffer=readable(bytes(buffer)))
    return Status.OK


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


@host_call("proxy_get_buffer_status", Enum("buffer", BufferType), Out("size_out"), Out("flags_out"))
def proxy_get_buffer_status(call: HostCall, buffer_type: BufferType, size_out: int, flags_out: int) -> Status:
    data, _ = buffer_of(call, buffer_type)
    call.memory.check(size_out, 4)
    call.memory.check(flags_out, 4)
    call.memory.write_u32(size_out, len(data))
    call.memory.write_u32(flags_out, 0)
    call.result(size=len(data))
    return Status.OK


@host_call("proxy_get_configuration", Out("data_out"), Out("size_out"))
def proxy_get_configuration(call: HostCall, data_out: int, size_out: int) -> Status:
    """ABI 0.1.0's way to read the configuration, still provided by Envoy:
    the plugin configuration while setting up, the VM configuration
    otherwise."""
    frame = call.frame
    config = call.plugin.config
    if frame is not None and frame.phase is CallbackPhase.SETUP:
        data = config.configuration_bytes
    else:
        data = config.vm_configuration_bytes
    call.hand_over(data, data_out, size_out)
    call.result(data=readable(data))
    return Status.OK
