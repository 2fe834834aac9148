"""Metrics: ``proxy_define_metric``, ``proxy_increment_metric``,
``proxy_record_metric``, ``proxy_get_metric`` (semantics in
``abi.proxy.metrics``).  ``proxy_record_metric`` takes its value as
unsigned, ``proxy_increment_metric`` its delta as signed, as the spec types
them."""

from __future__ import annotations

from abi.enums import MetricType, Status
from abi.hostcalls.declaration import Bytes, Enum, HostCall, Out, Signed64, U32, Unsigned64, host_call


@host_call("proxy_define_metric", Enum("type", MetricType), Bytes("name"), Out("id_out"))
def proxy_define_metric(call: HostCall, metric_type: MetricType, name: bytes, id_out: int) -> Status:
    call.memory.check(id_out, 4)
    metric_id = call.context.metrics.define(metric_type, name)
    call.memory.write_u32(id_out, metric_id)
    call.result(id=metric_id)
    return Status.OK


@host_call("proxy_increment_metric", U32("id"), Signed64("delta"))
def proxy_increment_metric(call: HostCall, metric_id: int, delta: int) -> Status:
    call.context.metrics.increment(metric_id, delta)
    return Status.OK


@host_call("proxy_record_metric", U32("id"), Unsigned64("value"))
def proxy_record_metric(call: HostCall, metric_id: int, value: int) -> Status:
    call.context.metrics.record(metric_id, value)
    return Status.OK


@host_call("proxy_get_metric", U32("id"), Out("value_out"))
def proxy_get_metric(call: HostCall, metric_id: int, value_out: int) -> Status:
    value = call.context.metrics.get(metric_id)
    call.memory.write_u64(value_out, value)
    call.result(value=value)
    return Status.OK
