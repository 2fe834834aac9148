"""Metrics: ``proxy_define_metric``, ``proxy_increment_metric``,
``proxy_record_metric``, ``proxy_get_metric`` (semantics in ``abi.metrics``).
``proxy_record_metric`` takes its value as unsigned, ``proxy_increment_metric``
its delta as signed, as the spec types them."""

from __future__ import annotations

from abi.enums import MetricType, Status
from abi.hostcalls.base import Enum, HostCall, Out, Signed64, StatusError, Text, U32, Unsigned64, host_call
from abi.metrics import Metric, MetricConflict

def _metric(call: HostCall, metric_id: int) -> Metric:
    metric = call.plugin.metric_ids.lookup(metric_id)
    if metric is None:
        raise StatusError(Status.NOT_FOUND, f"no metric {metric_id}")
    call.result(metric=metric.name)
    return metric


@host_call("proxy_define_metric", Enum("type", MetricType), Text("name"), Out("id_out"))
def proxy_define_metric(call: HostCall, metric_type: MetricType, name: str, id_out: int) -> Status:
    call.memory.check(id_out, 4)
    try:
        metric_id = call.plugin.metric_ids.define(metric_type, name)
    except MetricConflict as error:
        raise StatusError(Status.BAD_ARGUMENT, str(error)) from None
    call.memory.write_u32(id_out, metric_id)
    call.result(id=metric_id)
    return Status.OK


@host_call("proxy_increment_metric", U32("id"), Signed64("delta"))
def proxy_increment_metric(call: HostCall, metric_id: int, delta: int) -> Status:
    return _metric(call, metric_id).increment(delta)


@host_call("proxy_record_metric", U32("id"), Unsigned64("value"))
def proxy_record_metric(call: HostCall, metric_id: int, value: int) -> Status:
    return _metric(call, metric_id).record(value)


@host_call("proxy_get_metric", U32("id"), Out("value_out"))
def proxy_get_metric(call: HostCall, metric_id: int, value_out: int) -> Status:
    value = _metric(call, metric_id).read()
    if value is None:
        raise StatusError(Status.BAD_ARGUMENT, "a histogram has no single value")
    call.memory.write_u64(value_out, value)
    call.result(value=value)
    return Status.OK
