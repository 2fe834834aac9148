"""VMs shared by plugins with the same key, a trap failing every plugin of a
VM, fail_reload giving the next stream a fresh VM, and reconfiguration
accepted and rejected."""

from __future__ import annotations

from abi.enums import FailurePolicy
from abi.frontends.report import build_report
from abi.proxy.host import ProxyHost
from abi.proxy.http_stream import OriginResponse
from tests.abi.wat_plugins import load, results

COUNTER = """
(global $requests (mut i32) (i32.const 0))
(func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
  (call $keep (i32.const 0) (i32.add (i32.load (i32.const 0x1000)) (i32.const 1)))
  (i32.ne (local.get $size) (i32.const 6)))
(func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
  (global.set $requests (i32.add (global.get $requests) (i32.const 1)))
  (call $keep (i32.const 1) (global.get $requests))
  (call $keep (i32.const 2) (local.get $ctx))
  (if (i32.eq (global.get $requests) (i32.const 2)) (then unreachable))
  (i32.const 0))
"""

STEADY = COUNTER.replace("(i32.const 2)) (then unreachable)", "(i32.const 100)) (then unreachable)")


def send(host: ProxyHost, name: str) -> object:
    stream = host.open_stream(name, origin=OriginResponse.make())
    stream.send_request_headers({}, end_of_stream=True)
    return stream


def test_plugins_with_the_same_key_share_one_vm() -> None:
    host = ProxyHost()
    first = load(host, STEADY, name="first", configuration="a")
    second = load(host, STEADY, name="second", configuration="b")
    third = load(host, STEADY, name="third", vm_id="own")
    assert first.vm is second.vm and third.vm is not first.vm
    assert (first.root.id, second.root.id, third.root.id) == (1, 2, 1)
    assert results(first, 1) == [2]  # one memory: both configure calls counted there
    send(host, "one")
    assert results(first, 3)[1:] == [2, 4]  # the VM saw two requests (one per plugin); context ids 3 and 4
    assert results(third, 2)[1] == 1
    report = build_report(host)["plugins"]
    assert [plugin["vm"] for plugin in report] == ["first", "first", "third"]


def test_a_trap_in_a_shared_vm_fails_every_plugin_in_it() -> None:
    host = ProxyHost()
    first = load(host, COUNTER.replace("(i32.const 2)) (then unreachable)", "(i32.const 1)) (then unreachable)"),
                 name="first")
    second = load(host, COUNTER.replace("(i32.const 2)) (then unreachable)", "(i32.const 1)) (then unreachable)"),
                  name="second")
    other = load(host, COUNTER, name="other", vm_id="own")
    stream = send(host, "one")
    assert first.failed and second.failed and not other.failed
    assert stream.downstream_response.status == 503 and stream.failed_by == "first"
    assert [failure.plugin for failure in host.failures] == ["first"]


def test_fail_reload_gives_the_next_stream_a_fresh_vm() -> None:
    host = ProxyHost()
    plugin = load(host, COUNTER, failure_policy=FailurePolicy.FAIL_RELOAD)
    assert send(host, "one").downstream_response.status == 200
    failing = send(host, "two")
    assert failing.downstream_response.status == 503 and host.plugin("t").failed
    third = send(host, "three")
    assert third.downstream_response.status == 200
    fresh = host.plugin("t")
    assert fresh is not plugin and not fresh.failed and fresh.generation == 1
    assert results(fresh, 3) == [1, 1, 2]  # configured again; its own request count starts over
    assert build_report(host)["plugins"][0]["reloads"] == 1
    events = [entry["event"] for entry in host.trace.entries if entry["type"] == "event"]
    assert events.count("vm_start") == 2 and "plugin_reload" in events


def test_fail_close_keeps_a_failed_vm_failed() -> None:
    host = ProxyHost()
    load(host, COUNTER)
    send(host, "one")
    send(host, "two")
    assert send(host, "three").downstream_response.status == 503
    assert host.plugin("t").generation == 0


def test_reconfiguration_accepted_in_the_same_vm() -> None:
    host = ProxyHost()
    old = load(host, STEADY, configuration="abc")
    open_stream = host.open_stream("before", origin=OriginResponse.make())
    result = host.reconfigure("t", configuration="abcd")
    assert result.accepted and result.same_vm
    new = host.plugin("t")
    assert new is not old and new.vm is old.vm and new.root.id == 2
    open_stream.send_request_headers({}, end_of_stream=True)  # an open stream keeps the old plugin
    assert open_stream.slots[0].plugin is old
    assert results(new, 3)[2] == 3  # context 3: the old root context's stream
    send(host, "after")
    assert results(new, 3)[2] == 4
    assert old.root.finished  # its last stream is over
    assert not new.root.finished
    host.shutdown()
    assert new.root.finished


def test_reconfiguration_rejected_keeps_the_old_configuration() -> None:
    host = ProxyHost()
    old = load(host, COUNTER, configuration="abc")
    result = host.reconfigure("t", configuration="reject")  # six bytes: proxy_on_configure answers false
    assert not result.accepted and result.error == "returned false: the plugin rejected its configuration"
    assert host.plugin("t") is old
    assert send(host, "after").downstream_response.status == 200
    report = build_report(host)
    assert report["reconfigurations"] == [{"plugin": "t", "at_ns": result.at_ns, "accepted": False,
                                           "same_vm": True, "error": result.error}]
    assert report["plugins"][0]["failed"] is False
    assert host.failures == [] and report["failures"] == []  # a refused update is not a plugin failure


def test_reconfiguring_the_vm_configuration_makes_a_new_vm() -> None:
    host = ProxyHost()
    old = load(host, COUNTER, configuration="abc", vm_configuration="one")
    result = host.reconfigure("t", vm_configuration="two")
    assert result.accepted and not result.same_vm
    assert host.plugin("t").vm is not old.vm
