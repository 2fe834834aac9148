"""Properties: ``proxy_get_property`` and ``proxy_set_property`` (paths,
sources and encodings in ``abi.properties``)."""

from __future__ import annotations

from abi.enums import Status
from abi.hostcalls.base import Bytes, HostCall, Out, Path, StatusError, host_call
from abi.properties import PropertyPath, UnencodableValue, format_path
from abi.text import readable


@host_call("proxy_get_property", Path("path"), Out("data_out"), Out("size_out"))
def proxy_get_property(call: HostCall, path: PropertyPath, data_out: int, size_out: int) -> Status:
    try:
        value = call.plugin.host.property_value(call.plugin, call.context, path)
    except UnencodableValue as error:
        raise StatusError(Status.SERIALIZATION_FAILURE, str(error)) from None
    if value is None:
        raise StatusError(Status.NOT_FOUND, f"no property {format_path(path)!r}")
    call.hand_over(value, data_out, size_out)
    call.result(value=readable(value))
    return Status.OK


@host_call("proxy_set_property", Path("path"), Bytes("value"))
def proxy_set_property(call: HostCall, path: PropertyPath, value: bytes) -> Status:
    context = call.context
    if context is None or context.slot is None:
        raise StatusError(Status.NOT_FOUND, "a root context has no stream to hold properties")
    if not path:
        raise StatusError(Status.BAD_ARGUMENT, "empty property path")
    context.slot.stream.set_property(path, value)
    return Status.OK
