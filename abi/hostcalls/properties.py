"""Properties: ``proxy_get_property`` and ``proxy_set_property`` (paths,
sources and encodings in ``abi.proxy.properties``)."""

from __future__ import annotations

from abi.context_interface import StatusError
from abi.enums import Status
from abi.hostcalls.declaration import Bytes, HostCall, Out, Path, host_call
from abi.wire.text import readable


@host_call("proxy_get_property", Path("path"), Out("data_out"), Out("size_out"))
def proxy_get_property(call: HostCall, path: tuple[bytes, ...], data_out: int, size_out: int) -> Status:
    value = call.context.properties.get(path)
    if value is None:
        raise StatusError(Status.NOT_FOUND, f"no property {'.'.join(readable(s) for s in path)!r}")
    call.hand_over(value, data_out, size_out)
    call.result(value=readable(value))
    return Status.OK


@host_call("proxy_set_property", Path("path"), Bytes("value"))
def proxy_set_property(call: HostCall, path: tuple[bytes, ...], value: bytes) -> Status:
    if not path:
        raise StatusError(Status.BAD_ARGUMENT, "empty property path")
    call.context.properties.set(path, value)
    return Status.OK
