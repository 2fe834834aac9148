"""``proxy_set_tick_period_milliseconds`` and ``proxy_on_tick`` on the
simulated clock; a tick resuming a postponed request; stalls."""

from __future__ import annotations

from abi.enums import Action, Status
from abi.frontends.report import build_report
from abi.proxy.host import ProxyHost
from abi.proxy.http_stream import OriginResponse
from abi.proxy.services import HostConfig
from tests.abi.wat_plugins import load, results

TICKER = """
(global $waiting (mut i32) (i32.const 0))
(func (export "proxy_on_configure") (param i32 i32) (result i32)
  (call $keep (i32.const 0) (call $proxy_set_tick_period_milliseconds (i32.const 100))) (i32.const 1))
(func (export "proxy_on_tick") (param $root i32)
  (call $keep (i32.const 1) (i32.add (i32.load (i32.const 0x1004)) (i32.const 1)))
  (call $keep (i32.const 2) (local.get $root))
  (if (global.get $waiting) (then
    (drop (call $proxy_set_effective_context (global.get $waiting)))
    (call $keep (i32.const 3) (call $proxy_continue_stream (i32.const 0)))
    (global.set $waiting (i32.const 0))
    (drop (call $proxy_set_tick_period_milliseconds (i32.const 0))))))
(func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
  (global.set $waiting (local.get $ctx)) (i32.const 1))
"""


def test_ticks_come_every_period_after_the_last_tick_returned() -> None:
    host = ProxyHost()
    plugin = load(host, TICKER)
    assert results(plugin, 1) == [Status.OK]
    start = host.now_ms
    host.advance(99)
    assert results(plugin, 2)[1] == 0
    host.advance(1)
    assert results(plugin, 3)[1:] == [1, plugin.root.id]
    host.advance(1000)
    # A tick callback takes one simulated millisecond; the next is armed a period after it returns.
    assert results(plugin, 2)[1] == 10
    assert host.now_ms == start + 1101  # the first tick callback itself took a millisecond
    assert host.trace.callbacks().count(("t", "proxy_on_tick", plugin.root.id)) == 10


def test_a_tick_resumes_a_postponed_request_and_disarms() -> None:
    host = ProxyHost()
    plugin = load(host, TICKER)
    stream = host.open_stream("s", origin=OriginResponse.make(body="ok"))
    assert stream.send_request_headers({":path": "/"}, end_of_stream=True) is Action.PAUSE
    assert stream.upstream_request is None
    stream.finish()  # runs the clock to the tick, which resumes the stream: no stall
    assert stream.completed and stream.stalled is None
    assert bytes(stream.downstream_response.body) == b"ok"
    assert results(plugin, 4)[1:] == [1, plugin.root.id, Status.OK]
    host.advance(10_000)
    assert results(plugin, 2)[1] == 1  # disarmed by the tick itself
    assert build_report(host)["plugins"][0]["ticks"] == 1


def test_a_pause_nothing_can_resume_stalls_after_the_stall_time() -> None:
    host = ProxyHost(HostConfig(stall_after_ms=350))
    plugin = load(host, TICKER.replace("(if (global.get $waiting)", "(if (i32.const 0)"))
    stream = host.open_stream("s", origin=OriginResponse.make())
    opened = host.now_ms
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    stream.finish()
    assert stream.stalled == "request paused by plugin t in proxy_on_request_headers and never resumed"
    assert results(plugin, 2)[1] == 3  # the ticks kept coming, but resumed nothing
    assert opened + 350 <= host.now_ms < opened + 360


def test_a_pause_with_nothing_scheduled_stalls_at_once() -> None:
    host = ProxyHost()
    load(host, '(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))')
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    before = host.now_ms
    stream.finish()
    assert stream.stalled is not None and host.now_ms < before + 5


def test_setting_a_period_from_a_stream_context_arms_its_root_timer() -> None:
    host = ProxyHost()
    plugin = load(host, """
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $keep (i32.const 0) (call $proxy_set_tick_period_milliseconds (i32.const 5))) (i32.const 0))
(func (export "proxy_on_tick") (param $root i32) (call $keep (i32.const 1) (local.get $root)))""")
    host.open_stream(origin=OriginResponse.make()).send_request_headers({}, end_of_stream=True)
    host.advance(20)
    assert results(plugin, 2) == [Status.OK, plugin.root.id]


def test_no_ticks_while_the_vm_starts() -> None:
    host = ProxyHost()
    plugin = load(host, '(func (export "_initialize") (call $keep (i32.const 0)'
                        ' (call $proxy_set_tick_period_milliseconds (i32.const 5))))')
    assert results(plugin, 1) == [Status.BAD_ARGUMENT]


def test_a_failed_plugin_gets_no_more_ticks() -> None:
    host = ProxyHost()
    plugin = load(host, TICKER.replace("(call $keep (i32.const 2) (local.get $root))", "unreachable"))
    host.advance(1000)
    assert plugin.failed and results(plugin, 2)[1] == 1
    assert host.failures[0].callback == "proxy_on_tick"
