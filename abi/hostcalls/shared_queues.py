"""Shared queues: ``proxy_register_shared_queue``,
``proxy_resolve_shared_queue``, ``proxy_enqueue_shared_queue`` and
``proxy_dequeue_shared_queue`` (``abi.proxy.shared_queues``)."""

from __future__ import annotations

from abi.enums import Status
from abi.hostcalls.declaration import Bytes, HostCall, Out, U32, host_call
from abi.wire.text import readable


@host_call("proxy_register_shared_queue", Bytes("name"), Out("queue_id_out"))
def proxy_register_shared_queue(call: HostCall, name: bytes, queue_id_out: int) -> Status:
    call.memory.check(queue_id_out, 4)
    queue_id = call.context.shared_queues.register(name)
    call.memory.write_u32(queue_id_out, queue_id)
    call.result(queue_id=queue_id)
    return Status.OK


@host_call("proxy_resolve_shared_queue", Bytes("vm_id"), Bytes("name"), Out("queue_id_out"))
def proxy_resolve_shared_queue(call: HostCall, vm_id: bytes, name: bytes, queue_id_out: int) -> Status:
    call.memory.check(queue_id_out, 4)
    queue_id = call.context.shared_queues.resolve(vm_id, name)
    call.memory.write_u32(queue_id_out, queue_id)
    call.result(queue_id=queue_id)
    return Status.OK


@host_call("proxy_enqueue_shared_queue", U32("queue_id"), Bytes("value"))
def proxy_enqueue_shared_queue(call: HostCall, queue_id: int, value: bytes) -> Status:
    call.context.shared_queues.enqueue(queue_id, value)
    return Status.OK


@host_call("proxy_dequeue_shared_queue", U32("queue_id"), Out("value_out"), Out("size_out"))
def proxy_dequeue_shared_queue(call: HostCall, queue_id: int, value_out: int, size_out: int) -> Status:
    call.memory.check(value_out, 4)
    call.memory.check(size_out, 4)
    value = call.context.shared_queues.dequeue(queue_id)
    call.hand_over(value, value_out, size_out)
    call.result(value=readable(value))
    return Status.OK
