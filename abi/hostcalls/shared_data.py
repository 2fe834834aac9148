"""Shared data: ``proxy_get_shared_data`` and ``proxy_set_shared_data``,
keyed within the calling plugin's ``vm_id`` (``abi.proxy.shared_data``)."""

from __future__ import annotations

from abi.enums import Status
from abi.hostcalls.declaration import Bytes, HostCall, Out, U32, host_call
from abi.wire.text import readable


@host_call("proxy_get_shared_data", Bytes("key"), Out("value_out"), Out("size_out"), Out("cas_out"))
def proxy_get_shared_data(call: HostCall, key: bytes, value_out: int, size_out: int, cas_out: int) -> Status:
    call.memory.check(cas_out, 4)
    value, cas = call.context.shared_data.get(key)
    call.hand_over(value, value_out, size_out)
    call.memory.write_u32(cas_out, cas)
    call.result(value=readable(value), cas=cas)
    return Status.OK


@host_call("proxy_set_shared_data", Bytes("key"), Bytes("value"), U32("cas"))
def proxy_set_shared_data(call: HostCall, key: bytes, value: bytes, cas: int) -> Status:
    call.context.shared_data.set(key, value, cas)
    return Status.OK
