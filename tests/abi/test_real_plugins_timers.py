"""Time and shared data with the real plugins: tick_postpone (C, the Go SDK's
postpone_requests) and tick_hits (AssemblyScript) resuming postponed
requests from ``proxy_on_tick``, and shared_counter's CAS race between two
overlapping streams — each through its scenario file and the Python API."""

from __future__ import annotations

from typing import Any

import pytest

from abi.testing import (
    Action,
    HostConfig,
    HttpCallResponse,
    LogLevel,
    OriginResponse,
    PluginConfig,
    ProxyHost,
    UpstreamResponse,
    assert_no_failures,
    request_headers,
)
from tests.abi.scenario_runs import ASSEMBLYSCRIPT, C, by_name, errors_by_call, header_values, messages, run_json

TICK_POSTPONE = C / "tick_postpone.wasm"
TICK_HITS = ASSEMBLYSCRIPT / "tick_hits.wasm"
SHARED_COUNTER = C / "shared_counter.wasm"


# --- tick_postpone ---------------------------------------------------------------------------


def test_tick_postpone_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("tick_postpone.yaml", capsys)
    streams = by_name(report["streams"])

    postponed = streams["postponed"]
    assert postponed["stalled"] is None  # its timer resumed it: no stall
    assert header_values(postponed["upstream_request"], "x-postponed-ticks") == ["2"]
    assert postponed["downstream_response"]["body"] == "done"
    assert header_values(streams["not-a-number"]["upstream_request"], "x-postponed-ticks") == []
    assert streams["direct"]["upstream_request"]["complete"] is True

    too_long = streams["too-long"]  # five ticks of 100 ms, but stall_after_ms is 250
    assert too_long["stalled"] == ("request paused by plugin tick_postpone in proxy_on_request_headers and "
                                   "never resumed")
    assert too_long["upstream_request"] is None and too_long["downstream_response"] is None

    assert messages(report, "tick_postpone") == [
        "tick_postpone: tick period 100 ms",
        "tick_postpone: tick 1",
        "tick_postpone: nothing waiting, timer disarmed",
        "tick_postpone: timer armed, period 100 ms",
        "tick_postpone: postponing /slow for 2 ticks",
        "tick_postpone: tick 2",
        "tick_postpone: tick 3",
        "tick_postpone: resuming /slow after 2 ticks",
        "tick_postpone: nothing waiting, timer disarmed",
        "tick_postpone: bad x-postpone two, not postponing",
        "tick_postpone: timer armed, period 100 ms",
        "tick_postpone: postponing /forever for 5 ticks",
        "tick_postpone: tick 4",
        "tick_postpone: tick 5",
    ]
    assert report["plugins"][0]["ticks"] == 5
    # The stall was declared 250 ms after the last stream started: between its 2nd and 3rd tick.
    assert 600 <= report["time_ms"] < 650
    assert errors_by_call(report) == {("tick_postpone", "proxy_get_header_map_value", "NOT_FOUND"): 1}
    assert report["failures"] == []


def test_tick_postpone_through_the_api(proxy_host: Any) -> None:
    host = proxy_host(TICK_POSTPONE, configuration="40")
    stream = host.open_stream(origin=OriginResponse.make(body="later"))
    action = stream.send_request_headers(request_headers("/wait", headers={"x-postpone": "3"}), end_of_stream=True)
    assert action is Action.PAUSE
    host.advance(85)  # two ticks: still waiting
    assert stream.upstream_request is None and not stream.completed
    host.advance(40)
    assert stream.upstream_request.headers.get("x-postponed-ticks") == "3"
    assert stream.completed and stream.stalled is None and bytes(stream.downstream_response.body) == b"later"
    assert host.log_messages(LogLevel.INFO) == [
        "tick_postpone: tick period 40 ms", "tick_postpone: postponing /wait for 3 ticks",
        "tick_postpone: tick 1", "tick_postpone: tick 2", "tick_postpone: tick 3",
        "tick_postpone: resuming /wait after 3 ticks", "tick_postpone: nothing waiting, timer disarmed"]
    host.advance(1000)  # disarmed: no more ticks
    assert len(host.log_messages()) == 7
    assert_no_failures(host)


def test_a_stream_postponed_past_the_stall_time_stalls_and_stops_waiting() -> None:
    host = ProxyHost(HostConfig(stall_after_ms=45))
    host.load_plugin(PluginConfig("tick_postpone", TICK_POSTPONE, configuration="10"))
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers(request_headers("/gone", headers={"x-postpone": "1000"}), end_of_stream=True)
    stream.finish()  # ticks keep coming, but none resumes it within 45 ms: a stall; its context is deleted
    assert stream.stalled is not None and stream.upstream_request is None
    assert host.log_messages()[-1] == "tick_postpone: tick 4"
    host.advance(10)
    # The next tick finds nothing waiting any more and disarms the timer.
    assert host.log_messages()[-2:] == ["tick_postpone: tick 5", "tick_postpone: nothing waiting, timer disarmed"]
    host.shutdown()


def test_tick_postpone_rejects_a_bad_period(proxy_host: Any) -> None:
    host = proxy_host(TICK_POSTPONE, configuration="0")
    (plugin,) = host.plugins
    assert plugin.failure.callback == "proxy_on_configure"
    assert host.log_messages(LogLevel.ERROR) == ["tick_postpone: bad configuration 0, expected a tick period in ms"]


# --- tick_hits (AssemblyScript) -------------------------------------------------------------------


def test_tick_hits_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("tick_hits.yaml", capsys)
    streams = by_name(report["streams"])
    ticks_and_hits = [(header_values(streams[name]["upstream_request"], "x-tick"),
                       header_values(streams[name]["downstream_response"], "x-hits"))
                      for name in ("first", "second", "third")]
    assert ticks_and_hits == [(["1"], ["1"]), (["1"], ["2"]), (["4"], ["3"])]
    assert all(stream["stalled"] is None for stream in report["streams"])
    assert messages(report, "tick_hits", "info") == [
        "tick_hits: tick period 50 ms",
        "tick_hits: read 0 (cas 1), waiting for a tick",
        "tick_hits: read 0 (cas 1), waiting for a tick",
        "tick_hits: tick 1, resuming 2",
        "tick_hits: hits 0 -> 1",
        "tick_hits: hits 1 -> 2",
        "tick_hits: tick 2, resuming 0",
        "tick_hits: tick 3, resuming 0",
        "tick_hits: read 2 (cas 3), waiting for a tick",
        "tick_hits: tick 4, resuming 1",
        "tick_hits: hits 2 -> 3",
    ]
    assert messages(report, "tick_hits", "warn") == ["tick_hits: cas mismatch, retrying"]
    assert report["shared_data"] == {"": {"tick_hits.hits": {"value": "3", "cas": 4}}}
    assert errors_by_call(report) == {("tick_hits", "proxy_get_shared_data", "NOT_FOUND"): 1,
                                      ("tick_hits", "proxy_set_shared_data", "CAS_MISMATCH"): 1}
    assert report["plugins"][0]["ticks"] == 4 and report["failures"] == []


def test_tick_hits_through_the_api(proxy_host: Any) -> None:
    host = proxy_host(TICK_HITS, root_id="tick_hits", configuration="20", log_level=LogLevel.INFO)
    host.set_shared_data("", "tick_hits.hits", "10")
    streams = [host.open_stream(origin=OriginResponse.make()) for _ in range(2)]
    for stream in streams:
        assert stream.send_request_headers(request_headers(), end_of_stream=True) is Action.PAUSE
    host.advance(20)
    assert [stream.upstream_request.headers.get("x-tick") for stream in streams] == ["1", "1"]
    assert [stream.downstream_response.headers.get("x-hits") for stream in streams] == ["11", "12"]
    assert host.shared_data("", "tick_hits.hits")[0] == b"12"
    assert "tick_hits: cas mismatch, retrying" in host.log_messages(LogLevel.WARN)
    assert_no_failures(host)


def test_tick_hits_aborts_on_a_bad_period(proxy_host: Any) -> None:
    host = proxy_host(TICK_HITS, root_id="tick_hits", configuration="soon")
    (plugin,) = host.plugins
    assert plugin.failure.callback == "proxy_on_configure"
    assert host.log_messages(LogLevel.ERROR) == ["tick_hits: bad configuration soon, expected a tick period in ms"]


# --- shared_counter ---------------------------------------------------------------------------------


def test_shared_counter_race_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("shared_counter.yaml", capsys)
    streams = by_name(report["streams"])
    assert [header_values(streams[name]["upstream_request"], "x-counter") for name in ("first", "second", "alone")] \
        == [["42"], ["43"], ["44"]]
    first_call, second_call = streams["first"]["http_calls"][0], streams["second"]["http_calls"][0]
    # The second stream read the counter before the first call was answered: they overlapped.
    assert second_call["sent_at_ns"] < first_call["answered_at_ns"]
    assert first_call["answered_at_ns"] - first_call["sent_at_ns"] == 30_000_000
    assert first_call["headers"] == [[":method", "GET"], [":path", "/counter"], [":authority", "slow"]]
    assert messages(report, "shared_counter") == [
        "shared_counter: counter is 41",
        "shared_counter: read 41 (cas 1), calling slow",
        "shared_counter: read 41 (cas 1), calling slow",
        "shared_counter: counter 41 -> 42",
        "shared_counter: log counter=42",
        "shared_counter: cas mismatch, retrying",
        "shared_counter: counter 42 -> 43",
        "shared_counter: log counter=43",
        "shared_counter: read 43 (cas 3), calling slow",
        "shared_counter: counter 43 -> 44",
        "shared_counter: log counter=44",
    ]
    assert report["shared_data"] == {"counting": {"counter": {"value": "44", "cas": 4}}}
    assert errors_by_call(report) == {("shared_counter", "proxy_set_shared_data", "CAS_MISMATCH"): 1}
    assert report["failures"] == []


def test_shared_counter_race_answered_by_hand(proxy_host: Any) -> None:
    host = proxy_host(SHARED_COUNTER, configuration="slow", log_level=LogLevel.INFO)
    host.add_upstream("slow")
    first, second = (host.open_stream(origin=OriginResponse.make()) for _ in range(2))
    for stream in (first, second):
        assert stream.send_request_headers(request_headers(), end_of_stream=True) is Action.PAUSE
    first_call, second_call = host.pending_http_calls
    host.respond_http_call(second_call, HttpCallResponse.make(200))  # the later reader writes first
    host.respond_http_call(first_call, HttpCallResponse.reset())  # a failed call counts too
    assert second.upstream_request.headers.get("x-counter") == "1"
    assert first.upstream_request.headers.get("x-counter") == "2"
    assert host.shared_data("", "counter") == (b"2", 3)
    assert host.log_messages(LogLevel.INFO)[0] == "shared_counter: counter created at 0"
    assert host.log_messages(LogLevel.WARN) == ["shared_counter: cas mismatch, retrying"]
    assert_no_failures(host)


def test_shared_counter_counts_from_zero_over_a_value_that_is_not_a_number(proxy_host: Any) -> None:
    host = proxy_host(SHARED_COUNTER, upstreams={"slow": [UpstreamResponse(200)]}, log_level=LogLevel.INFO)
    host.set_shared_data("", "counter", "many")
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers(request_headers(), end_of_stream=True)
    assert stream.upstream_request.headers.get("x-counter") == "1"
    assert host.log_messages(LogLevel.WARN) == ["shared_counter: counter holds many, counting from 0"]
    assert host.shared_data("", "counter")[0] == b"1"


def test_shared_counter_cannot_dispatch_to_an_unknown_cluster(proxy_host: Any) -> None:
    host = proxy_host(SHARED_COUNTER, configuration="nowhere")
    stream = host.open_stream(origin=OriginResponse.make())
    assert stream.send_request_headers(request_headers(), end_of_stream=True) is Action.CONTINUE
    assert "x-counter" not in stream.upstream_request.headers
    assert host.log_messages(LogLevel.ERROR) == ["shared_counter: dispatch failed with status 2"]  # BAD_ARGUMENT
