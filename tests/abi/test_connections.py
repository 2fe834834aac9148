"""TCP connections through the network filter chain: new connections, data
both ways (buffered while paused, rewritten), closing from either end or by
a plugin, Envoy's TCP callback order, properties, failure policies."""

from __future__ import annotations

from abi.enums import Action, FailurePolicy, PeerType, Status
from abi.frontends.report import build_report
from abi.proxy.host import ProxyHost
from tests.abi.wat_plugins import load, results

TEXTS = {0x100: "D>", 0x108: "U>", 0x110: "source\0address"}
LOG = """
(global $log (mut i32) (i32.const 0x4000))
(func $note (param $code i32)
  (i32.store (global.get $log) (local.get $code))
  (global.set $log (i32.add (global.get $log) (i32.const 4))))
(func (export "proxy_on_done") (param i32) (result i32) (call $note (i32.const 90)) (i32.const 1))
(func (export "proxy_on_log") (param i32) (call $note (i32.const 91)))
(func (export "proxy_on_delete") (param i32) (call $note (i32.const 92)))
(func (export "proxy_on_downstream_connection_close") (param i32) (param $peer i32)
  (call $note (i32.add (i32.const 80) (local.get $peer))))
(func (export "proxy_on_upstream_connection_close") (param i32) (param $peer i32)
  (call $note (i32.add (i32.const 70) (local.get $peer))))
"""


def filter_wat(new_connection: str = "(i32.const 0)", downstream: str = "(i32.const 0)",
               upstream: str = "(i32.const 0)") -> str:
    return LOG + f"""
(func (export "proxy_on_new_connection") (param $ctx i32) (result i32) (call $note (i32.const 1)) {new_connection})
(func (export "proxy_on_downstream_data") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
  (call $note (i32.const 2)) (call $note (local.get $size))
  (drop (call $proxy_set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 0x100) (i32.const 2)))
  {downstream})
(func (export "proxy_on_upstream_data") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
  (call $note (i32.const 3)) (call $note (local.get $size))
  (drop (call $proxy_set_buffer_bytes (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0x108) (i32.const 2)))
  {upstream})
"""


def notes(plugin: object) -> list[int]:
    memory = plugin.instance.memory.data  # type: ignore[attr-defined]
    found = []
    address = 0x4000
    while int.from_bytes(memory[address:address + 4], "little"):
        found.append(int.from_bytes(memory[address:address + 4], "little"))
        address += 4
    return found


def test_data_goes_both_ways_through_the_filter() -> None:
    host = ProxyHost()
    plugin = load(host, filter_wat(), kind="network", data=TEXTS)
    connection = host.open_connection("c")
    assert connection.send_downstream("hello") is Action.CONTINUE
    assert connection.send_upstream("hi", end_of_stream=True) is Action.CONTINUE
    assert bytes(connection.origin_received.data) == b"D>hello"
    assert bytes(connection.client_received.data) == b"U>hi" and connection.client_received.end_of_stream
    connection.close_side("downstream")
    assert connection.completed
    # new connection, downstream data (5 bytes), upstream data (2), upstream end (peer UNKNOWN),
    # the client closing (REMOTE), then Envoy's TCP order: done, log, delete.
    assert notes(plugin) == [1, 2, 5, 3, 2, 70 + PeerType.UNKNOWN, 80 + PeerType.REMOTE, 90, 91, 92]


def test_paused_data_is_buffered_until_the_plugin_continues() -> None:
    host = ProxyHost()
    plugin = load(host, filter_wat(downstream="(i32.eqz (local.get $eos))"), kind="network", data=TEXTS)
    connection = host.open_connection("c")
    assert connection.send_downstream("ab") is Action.PAUSE
    assert connection.send_downstream("cd", end_of_stream=True) is Action.CONTINUE
    # The second call sees everything buffered so far, with the plugin's own prepend: D>ab + cd.
    assert notes(plugin)[:5] == [1, 2, 2, 2, 6]
    assert bytes(connection.origin_received.data) == b"D>D>abcd" and connection.origin_received.end_of_stream


def test_chain_order_and_closing_by_the_origin() -> None:
    host = ProxyHost()
    first = load(host, filter_wat(), name="A", kind="network", data=TEXTS, vm_id="a")
    second = load(host, filter_wat(), name="B", kind="network", data=TEXTS, vm_id="b")
    connection = host.open_connection("c")
    connection.send_downstream("x")
    connection.send_upstream("y")
    assert bytes(connection.origin_received.data) == b"D>D>x" and bytes(connection.client_received.data) == b"U>U>y"
    connection.close_side("upstream")
    assert connection.completed and connection.closed_by == "the proxy (origin side closed)"
    for plugin in (first, second):
        assert notes(plugin)[-5:] == [70 + PeerType.REMOTE, 80 + PeerType.LOCAL, 90, 91, 92]
    order = [entry["plugin"] for entry in host.trace.entries if entry["type"] == "callback"
             and entry["name"] in ("proxy_on_downstream_data", "proxy_on_upstream_data")]
    assert order == ["A", "B", "B", "A"]


def test_a_plugin_closes_the_connection() -> None:
    host = ProxyHost()
    plugin = load(host, filter_wat(downstream="(drop (call $proxy_close_stream (i32.const 2))) (i32.const 1)"),
                  kind="network", data=TEXTS)
    connection = host.open_connection("c")
    connection.send_downstream("bye")
    assert connection.completed and connection.closed_by == "plugin t"
    assert notes(plugin)[-4:] == [80 + PeerType.LOCAL, 90, 91, 92]
    assert bytes(connection.origin_received.data) == b""


PAUSE_NEW_CONNECTION = """(drop (call $proxy_set_tick_period_milliseconds (i32.const 10)))
  (global.set $held (local.get $ctx)) (i32.const 1)"""
RESUME_ON_TICK = """
(global $held (mut i32) (i32.const 0))
(func (export "proxy_on_tick") (param i32)
  (drop (call $proxy_set_effective_context (global.get $held)))
  (call $keep (i32.const 0) (call $proxy_continue_stream (i32.const 2)))
  (drop (call $proxy_set_tick_period_milliseconds (i32.const 0))))
"""


def test_a_paused_new_connection_holds_the_data_until_resumed() -> None:
    host = ProxyHost()
    plugin = load(host, filter_wat(new_connection=PAUSE_NEW_CONNECTION) + RESUME_ON_TICK, kind="network",
                  data=TEXTS)
    connection = host.open_connection("c")
    assert connection.send_downstream("early") is Action.CONTINUE  # queued behind the paused new connection
    assert bytes(connection.origin_received.data) == b""
    host.advance(20)
    assert results(plugin, 1) == [Status.OK]
    assert bytes(connection.origin_received.data) == b"D>early"


def test_connection_properties() -> None:
    host = ProxyHost()
    plugin = load(host, filter_wat(new_connection="""
        (call $keep (i32.const 0) (call $proxy_get_property (i32.const 0x110) (i32.const 14) (i32.const 0x200)
                                                            (i32.const 0x204))) (i32.const 0)"""),
                  kind="network", data=TEXTS)
    host.open_connection("c", properties={"source.address": "192.0.2.1:4000"})
    assert results(plugin, 1) == [Status.OK]
    pointer = int.from_bytes(plugin.instance.memory.data[0x200:0x204], "little")
    assert bytes(plugin.instance.memory.data[pointer:pointer + 14]) == b"192.0.2.1:4000"


def test_a_failing_filter_closes_the_connection_under_fail_close() -> None:
    host = ProxyHost()
    load(host, filter_wat(downstream="unreachable"), kind="network", data=TEXTS)
    connection = host.open_connection("c")
    connection.send_downstream("boom")
    assert connection.completed and connection.failed_by == "t"
    assert bytes(connection.origin_received.data) == b""
    assert build_report(host)["connections"][0]["closed_by"] == "the proxy (plugin t failed)"


def test_a_failing_filter_is_passed_over_under_fail_open() -> None:
    host = ProxyHost()
    load(host, filter_wat(downstream="unreachable"), kind="network", data=TEXTS,
         failure_policy=FailurePolicy.FAIL_OPEN)
    connection = host.open_connection("c")
    connection.send_downstream("boom")
    connection.send_downstream("again")
    assert not connection.completed
    assert bytes(connection.origin_received.data) == b"D>boomagain"


def test_held_data_at_shutdown_is_a_stall() -> None:
    host = ProxyHost()
    load(host, filter_wat(downstream="(i32.const 1)"), kind="network", data=TEXTS)
    connection = host.open_connection("c")
    connection.send_downstream("stuck")
    host.shutdown()
    assert connection.completed
    assert connection.stalled == "downstream data held by plugin t (paused in proxy_on_downstream_data) and " \
                                 "never resumed"
