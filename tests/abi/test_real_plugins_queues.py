"""Shared queues with the real plugins: a service (queue_consumer) receiving
what an HTTP filter in another VM (queue_producer) enqueues, and queue_pair
(AssemblyScript: a filter and a service sharing one VM) — each through its
scenario file and the Python API."""

from __future__ import annotations

from typing import Any

import pytest

from abi.testing import LogLevel, OriginResponse, PluginConfig, assert_no_failures, request_headers
from tests.abi.scenario_runs import ASSEMBLYSCRIPT, C, by_name, errors_by_call, header_values, messages, run_json

QUEUE_PRODUCER = C / "queue_producer.wasm"
QUEUE_CONSUMER = C / "queue_consumer.wasm"
QUEUE_PAIR = ASSEMBLYSCRIPT / "queue_pair.wasm"


def test_a_service_receives_queue_items_from_another_vm(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("queues.yaml", capsys)
    streams = by_name(report["streams"])
    for name in ("a", "b"):
        # queue_producer's answer, then misdirected's.
        assert header_values(streams[name]["upstream_request"], "x-enqueued") == ["yes", "no"]
    assert messages(report, "queue_consumer") == [
        "queue_consumer: registered queue paths as 1",
        "queue_consumer: got /a", "queue_consumer: queue 1 drained after 1 items",
        "queue_consumer: got /b", "queue_consumer: queue 1 drained after 1 items",
    ]
    assert messages(report, "queue_producer") == ["queue_producer: sending paths to queue paths in vm consumer",
                                                  "queue_producer: enqueued /a", "queue_producer: enqueued /b"]
    assert messages(report, "misdirected", "warn") == ["queue_producer: no queue paths in vm nobody"] * 2
    assert report["services"][0]["name"] == "queue_consumer" and report["services"][0]["kind"] == "service"
    assert report["services"][0]["vm_id"] == "consumer"
    assert report["queues"] == [{"id": 1, "vm_id": "consumer", "name": "paths", "registered_by": "queue_consumer",
                                 "enqueued": 2, "left": []}]
    assert report["metrics"] == {"queue_consumer.items": 2}
    assert report["shared_data"] == {"consumer": {"last_item": {"value": "/b", "cas": 2}}}
    assert errors_by_call(report) == {("misdirected", "proxy_resolve_shared_queue", "NOT_FOUND"): 2,
                                      ("queue_consumer", "proxy_dequeue_shared_queue", "EMPTY"): 2}
    assert report["failures"] == []


def test_queue_items_through_the_api(proxy_host: Any) -> None:
    host = proxy_host(PluginConfig("queue_producer", QUEUE_PRODUCER, configuration="consumer/jobs"),
                      log_level=LogLevel.INFO)
    early = host.open_stream(origin=OriginResponse.make())
    early.send_request_headers(request_headers("/before"), end_of_stream=True)
    assert early.upstream_request.headers.get("x-enqueued") == "no"  # no service has registered the queue yet
    assert host.log_messages(LogLevel.WARN) == ["queue_producer: no queue jobs in vm consumer"]

    host.load_service(PluginConfig("queue_consumer", QUEUE_CONSUMER, vm_id="consumer", configuration="jobs"))
    for path in ("/one", "/two"):
        stream = host.open_stream(origin=OriginResponse.make())
        stream.send_request_headers(request_headers(path), end_of_stream=True)
        assert stream.upstream_request.headers.get("x-enqueued") == "yes"
    assert host.log_messages(LogLevel.INFO, plugin="queue_consumer") == [
        "queue_consumer: registered queue jobs as 1",
        "queue_consumer: got /one", "queue_consumer: queue 1 drained after 1 items",
        "queue_consumer: got /two", "queue_consumer: queue 1 drained after 1 items",
    ]
    assert host.metric("queue_consumer.items") == 2
    assert host.shared_data("consumer", "last_item")[0] == b"/two"
    assert host.shared_data("", "last_item") is None  # shared data is per VM id
    assert_no_failures(host)


def test_queue_producer_rejects_a_queue_without_a_name(proxy_host: Any) -> None:
    host = proxy_host(QUEUE_PRODUCER, configuration="vm1/")
    assert host.plugins[0].failure.callback == "proxy_on_configure"
    assert host.log_messages(LogLevel.ERROR) == [
        "queue_producer: bad configuration vm1/, expected VM_ID/QUEUE_NAME"]


def test_queue_pair_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("queue_pair.yaml", capsys)
    (sender,) = report["plugins"]
    (receiver,) = report["services"]
    assert (sender["root_id"], receiver["root_id"]) == ("queue_sender", "queue_receiver")
    assert sender["vm"] == receiver["vm"] == "queue_receiver"  # one VM: the service was loaded first
    for stream in report["streams"]:
        assert header_values(stream["upstream_request"], "x-as-enqueued") == ["yes"]
    assert messages(report, "queue_sender", "info") == ['queue_sender: sending paths to queue paths in vm ""',
                                                        "queue_sender: enqueued /x", "queue_sender: enqueued /y"]
    assert messages(report, "queue_receiver", "info") == [
        "queue_receiver: registered queue paths as 1",
        "queue_receiver: got /x", "queue_receiver: queue 1 drained after 1 items",
        "queue_receiver: got /y", "queue_receiver: queue 1 drained after 1 items",
    ]
    assert report["queues"] == [{"id": 1, "vm_id": "", "name": "paths", "registered_by": "queue_receiver",
                                 "enqueued": 2, "left": []}]
    assert report["metrics"] == {"queue_receiver.items": 2}
    assert report["failures"] == []


def test_queue_pair_through_the_api(proxy_host: Any) -> None:
    host = proxy_host(PluginConfig("sender", QUEUE_PAIR, root_id="queue_sender", configuration="/jobs"),
                      log_level=LogLevel.INFO)
    receiver = host.load_service(PluginConfig("receiver", QUEUE_PAIR, root_id="queue_receiver",
                                              configuration="jobs"))
    assert receiver.vm is host.plugin("sender").vm
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers(request_headers("/job-1"), end_of_stream=True)
    assert stream.upstream_request.headers.get("x-as-enqueued") == "yes"
    assert host.log_messages(LogLevel.INFO, plugin="receiver")[-2:] == [
        "queue_receiver: got /job-1", "queue_receiver: queue 1 drained after 1 items"]
    assert host.metric("queue_receiver.items") == 1
    assert_no_failures(host)


def test_queue_pair_sender_without_a_receiver(proxy_host: Any) -> None:
    host = proxy_host(QUEUE_PAIR, root_id="queue_sender", configuration="elsewhere/jobs")
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers(request_headers("/lost"), end_of_stream=True)
    assert stream.upstream_request.headers.get("x-as-enqueued") == "no"
    assert host.log_messages(LogLevel.WARN) == ["queue_sender: no queue jobs in vm elsewhere"]
    assert_no_failures(host)
