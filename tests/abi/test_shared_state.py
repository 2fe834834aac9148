"""Shared data (with compare-and-swap) and shared queues, across streams,
plugins and VMs."""

from __future__ import annotations

from abi.enums import Action, Status
from abi.frontends.report import build_report
from abi.proxy.host import ProxyHost
from abi.proxy.http_callouts import UpstreamResponse
from abi.proxy.http_stream import OriginResponse
from abi.wire.pairs import encode_pairs
from tests.abi.wat_plugins import load, results, returned

CALL_HEADERS = encode_pairs([(b":method", b"GET"), (b":path", b"/"), (b":authority", b"slow")])
TEXTS = {0x100: "counter", 0x110: "slow", 0x120: "new", 0x300: CALL_HEADERS}


def get(slot: int, key: tuple[int, int] = (0x100, 7)) -> str:
    return (f"(call $keep (i32.const {slot}) (call $proxy_get_shared_data (i32.const {key[0]}) (i32.const {key[1]})"
            f" (i32.const 0x400) (i32.const 0x404) (i32.const 0x408)))")


def test_get_and_set_with_cas() -> None:
    host = ProxyHost()
    host.set_shared_data("", "counter", "0")  # cas 1
    plugin = load(host, f"""(func (export "proxy_on_configure") (param i32 i32) (result i32)
      {get(0)}
      (call $keep (i32.const 1) (i32.load (i32.const 0x408)))
      (call $keep (i32.const 2) (call $proxy_set_shared_data (i32.const 0x100) (i32.const 7) (i32.const 0x120)
                                      (i32.const 3) (i32.const 99)))
      (call $keep (i32.const 3) (call $proxy_set_shared_data (i32.const 0x100) (i32.const 7) (i32.const 0x120)
                                      (i32.const 3) (i32.const 1)))
      (call $keep (i32.const 4) (call $proxy_set_shared_data (i32.const 0x100) (i32.const 7) (i32.const 0x120)
                                      (i32.const 2) (i32.const 0)))
      {get(5, (0x110, 4))}
      (i32.const 1))""", data=TEXTS)
    assert results(plugin, 6) == [Status.OK, 1, Status.CAS_MISMATCH, Status.OK, Status.OK, Status.NOT_FOUND]
    assert host.shared_data("", "counter") == (b"ne", 3)
    assert build_report(host)["shared_data"] == {"": {"counter": {"value": "ne", "cas": 3}}}


RACE = f"""
(func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
  {get(0)}
  (i32.store (i32.add (i32.const 0x2000) (i32.mul (local.get $ctx) (i32.const 4))) (i32.load (i32.const 0x408)))
  (drop (call $proxy_http_call (i32.const 0x110) (i32.const 4) (i32.const 0x300) (i32.const {len(CALL_HEADERS)})
                               (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000)
                               (i32.const 0x500)))
  (i32.store (i32.add (i32.const 0x3000) (i32.mul (i32.load (i32.const 0x500)) (i32.const 4))) (local.get $ctx))
  (i32.const 1))
(func (export "proxy_on_http_call_response") (param i32) (param $token i32) (param i32 i32 i32) (local $ctx i32)
  (local.set $ctx (i32.load (i32.add (i32.const 0x3000) (i32.mul (local.get $token) (i32.const 4)))))
  (drop (call $proxy_set_effective_context (local.get $ctx)))
  (call $keep (local.get $token) (call $proxy_set_shared_data (i32.const 0x100) (i32.const 7) (i32.const 0x120)
      (i32.const 3) (i32.load (i32.add (i32.const 0x2000) (i32.mul (local.get $ctx) (i32.const 4))))))
  (drop (call $proxy_continue_stream (i32.const 0))))
"""


def test_a_cas_race_between_two_overlapping_streams() -> None:
    host = ProxyHost()
    host.add_upstream("slow", [UpstreamResponse(200, delay_ms=10)])
    host.set_shared_data("", "counter", "0")
    plugin = load(host, RACE, data=TEXTS)
    first = host.open_stream("first", origin=OriginResponse.make())
    second = host.open_stream("second", origin=OriginResponse.make())
    assert first.send_request_headers({}, end_of_stream=True) is Action.PAUSE
    assert second.send_request_headers({}, end_of_stream=True) is Action.PAUSE  # both read cas 1
    host.advance(20)
    assert results(plugin, 3)[1:] == [Status.OK, Status.CAS_MISMATCH]
    assert first.completed and second.completed
    assert host.shared_data("", "counter") == (b"new", 2)


def test_shared_data_is_per_vm_id() -> None:
    host = ProxyHost()
    host.set_shared_data("other", "counter", "elsewhere")
    plugin = load(host, f'(func (export "proxy_on_configure") (param i32 i32) (result i32) {get(0)} (i32.const 1))',
                  data=TEXTS)
    assert results(plugin, 1) == [Status.NOT_FOUND]


REGISTER = """
(func (export "proxy_on_configure") (param i32 i32) (result i32)
  (call $keep (i32.const 0) (call $proxy_register_shared_queue (i32.const 0x100) (i32.const 1) (i32.const 0x200)))
  (call $keep (i32.const 1) (i32.load (i32.const 0x200)))
  (i32.const 1))
(func (export "proxy_on_queue_ready") (param $root i32) (param $queue i32)
  (call $keep (i32.const 2) (i32.add (i32.load (i32.const 0x1008)) (i32.const 1)))
  (call $keep (i32.const 3) (local.get $root))
  (call $keep (i32.const 4) (call $proxy_dequeue_shared_queue (local.get $queue) (i32.const 0x210)
                                                              (i32.const 0x214)))
  (call $keep (i32.const 5) (call $proxy_dequeue_shared_queue (local.get $queue) (i32.const 0x218)
                                                              (i32.const 0x21c))))
"""
ENQUEUE = """
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $keep (i32.const 0) (call $proxy_resolve_shared_queue (i32.const 0x110) (i32.const 3) (i32.const 0x100)
                                                             (i32.const 1) (i32.const 0x200)))
  (call $keep (i32.const 1) (call $proxy_enqueue_shared_queue (i32.load (i32.const 0x200)) (i32.const 0x120)
                                                             (i32.const 5)))
  (call $keep (i32.const 2) (call $proxy_resolve_shared_queue (i32.const 0x110) (i32.const 3) (i32.const 0x101)
                                                             (i32.const 1) (i32.const 0x204)))
  (call $keep (i32.const 3) (call $proxy_enqueue_shared_queue (i32.const 77) (i32.const 0x120) (i32.const 5)))
  (i32.const 0))
"""


def test_a_service_receives_queue_items_from_a_filter_in_another_vm() -> None:
    host = ProxyHost()
    service = load(host, REGISTER, name="collector", kind="service", vm_id="svc", data={0x100: "q"})
    assert results(service, 2) == [Status.OK, 1]
    queue_id = results(service, 2)[1]
    producer = load(host, ENQUEUE, name="producer", data={0x100: "qx", 0x110: "svc", 0x120: "hello"})
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers({}, end_of_stream=True)
    assert results(producer, 4) == [Status.OK, Status.OK, Status.NOT_FOUND, Status.NOT_FOUND]
    assert results(service, 6)[2:] == [1, service.root.id, Status.OK, Status.EMPTY]
    assert returned(service, 0x210, 0x214) == b"hello"
    notified = [entry["name"] for entry in host.trace.entries if entry["type"] == "callback"
                and entry["plugin"] == "collector" and entry["name"] == "proxy_on_queue_ready"]
    assert notified == ["proxy_on_queue_ready"] and queue_id == 1
    (queue,) = build_report(host)["queues"]
    assert queue == {"id": 1, "vm_id": "svc", "name": "q", "registered_by": "collector", "enqueued": 1, "left": []}


def test_queue_ready_is_posted_after_the_stream_has_moved_as_far_as_it_can() -> None:
    """As cpp-host posts it to Envoy's dispatcher: after the current event
    (here the whole exchange, since the origin answers at once)."""
    host = ProxyHost()
    load(host, REGISTER, name="collector", kind="service", vm_id="svc", data={0x100: "q"})
    load(host, ENQUEUE + '(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) '
                         '(i32.const 0))', name="producer", data={0x100: "qx", 0x110: "svc", 0x120: "hello"})
    host.open_stream(origin=OriginResponse.make()).send_request_headers({}, end_of_stream=True)
    names = [(entry["plugin"], entry["name"]) for entry in host.trace.entries if entry["type"] == "callback"]
    position = names.index(("producer", "proxy_on_request_headers"))
    assert names[position + 1:] == [("producer", "proxy_on_response_headers"), ("collector", "proxy_on_queue_ready")]


def test_registering_again_takes_the_queue_over_and_keeps_its_items() -> None:
    host = ProxyHost()
    silent = REGISTER.split('(func (export "proxy_on_queue_ready")')[0]
    first = load(host, silent, name="first", kind="service", vm_id="svc", data={0x100: "q"})
    load(host, ENQUEUE, name="producer", data={0x100: "qx", 0x110: "svc", 0x120: "hello"})
    host.open_stream(origin=OriginResponse.make()).send_request_headers({}, end_of_stream=True)
    assert build_report(host)["queues"][0]["left"] == ["hello"]  # nobody dequeued: first has no callback
    second = load(host, REGISTER, name="second", kind="service", vm_id="svc", data={0x100: "q"})
    assert results(first, 2)[1] == results(second, 2)[1] == 1
    host.open_stream(origin=OriginResponse.make()).send_request_headers({}, end_of_stream=True)
    assert results(second, 6)[2:] == [1, second.root.id, Status.OK, Status.OK]
    assert returned(second, 0x210, 0x214) == returned(second, 0x218, 0x21c) == b"hello"
