"""``proxy_log``, ``proxy_get_log_level``, ``proxy_get_current_time_nanoseconds``."""

from __future__ import annotations

from abi.enums import LogLevel, Status
from abi.proxy.host import ProxyHost
from abi.proxy.services import DEFAULT_CLOCK_START_NS, HostConfig
from tests.abi.wat_plugins import load, on_request_headers, results, u32, u64

OUT_OF_BOUNDS = 0x20000  # the test plugins have two pages


def log_calls(*calls: tuple[int, int, int]) -> str:
    return on_request_headers(" ".join(
        f"(call $keep (i32.const {slot}) (call $proxy_log (i32.const {level}) (i32.const {pointer}) (i32.const 5)))"
        for slot, (level, pointer, _) in enumerate(calls)))


def test_log_levels_statuses_and_filtering() -> None:
    host = ProxyHost(HostConfig(log_level=LogLevel.INFO))
    plugin = load(host, log_calls((1, 0x100, 0), (2, 0x100, 0), (5, 0x106, 0), (6, 0x100, 0),
                                  (2, OUT_OF_BOUNDS - 2, 0)), data={0x100: "hello world"})
    stream = host.open_stream("s")
    stream.send_request_headers({":path": "/"})
    assert results(plugin, 5) == [Status.OK, Status.OK, Status.OK, Status.BAD_ARGUMENT,
                                  Status.INVALID_MEMORY_ACCESS]
    assert [(entry.level, entry.message, entry.stream) for entry in host.logs()] == [
        (LogLevel.INFO, "hello", "s"), (LogLevel.CRITICAL, "world", "s")]
    assert host.log_messages(LogLevel.CRITICAL) == ["world"]


def test_the_trace_shows_decoded_arguments() -> None:
    host = ProxyHost()
    load(host, log_calls((3, 0x100, 0), (7, 0x100, 0)), data={0x100: "hello"})
    host.open_stream().send_request_headers({})
    calls = host.trace.hostcalls("proxy_log")
    assert calls[0]["args"] == {"level": "WARN", "message": "hello"}
    assert calls[0]["status"] == "OK"
    assert calls[1]["args"] == {"level": [7]}
    assert calls[1]["status"] == "BAD_ARGUMENT"


def test_get_log_level_answers_the_hosts_level() -> None:
    host = ProxyHost(HostConfig(log_level=LogLevel.WARN))
    plugin = load(host, on_request_headers(
        "(call $keep (i32.const 0) (call $proxy_get_log_level (i32.const 0x200)))"
        f"(call $keep (i32.const 1) (call $proxy_get_log_level (i32.const {OUT_OF_BOUNDS - 3})))"))
    host.open_stream().send_request_headers({})
    assert results(plugin, 2) == [Status.OK, Status.INVALID_MEMORY_ACCESS]
    assert u32(plugin, 0x200) == LogLevel.WARN


def test_current_time_is_the_simulated_clock() -> None:
    def run() -> tuple[int, int, list[int]]:
        host = ProxyHost()
        plugin = load(host, on_request_headers(
            "(call $keep (i32.const 0) (call $proxy_get_current_time_nanoseconds (i32.const 0x200)))"
            "(call $keep (i32.const 1) (call $proxy_get_current_time_nanoseconds (i32.const 0x208)))"
            f"(call $keep (i32.const 2) (call $proxy_get_current_time_nanoseconds (i32.const {OUT_OF_BOUNDS - 4})))"))
        host.open_stream().send_request_headers({})
        return u64(plugin, 0x200), u64(plugin, 0x208), results(plugin, 3)

    first, second, statuses = run()
    assert statuses == [Status.OK, Status.OK, Status.INVALID_MEMORY_ACCESS]
    assert DEFAULT_CLOCK_START_NS < first < second < DEFAULT_CLOCK_START_NS + 10_000_000_000
    assert second - first == 1_000  # one tick per read
    assert run()[:2] == (first, second)  # deterministic
