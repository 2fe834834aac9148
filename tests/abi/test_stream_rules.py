"""How a stream goes through the filter chain: callback order, pausing and
continuing, body buffering, local replies, failure policies, stalls."""

from __future__ import annotations

import pytest

from abi.enums import Action, FailurePolicy, LogLevel
from abi.errors import UsageError
from abi.proxy.host import ProxyHost
from abi.proxy.services import HostConfig
from abi.proxy.http_callouts import HttpCallResponse
from abi.wire.pairs import encode_pairs
from abi.proxy.http_stream import HttpStream, OriginResponse
from tests.abi.wat_plugins import load, results

STREAM_CALLBACKS = {
    "proxy_on_request_headers": 3, "proxy_on_request_body": 3, "proxy_on_request_trailers": 2,
    "proxy_on_response_headers": 3, "proxy_on_response_body": 3, "proxy_on_response_trailers": 2,
}
CALL_HEADERS = encode_pairs([(b":method", b"GET"), (b":path", b"/"), (b":authority", b"c")])
DISPATCH = ("(drop (call $proxy_http_call (i32.const 0x100) (i32.const 1) (i32.const 0x300)"
            f" (i32.const {len(CALL_HEADERS)}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)"
            " (i32.const 0) (i32.const 0x2f0)))")
RESUME_STREAM_2 = """(func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
    (drop (call $proxy_set_effective_context (i32.const 2)))
    (drop (call $proxy_continue_stream (i32.const {direction}))))"""


def behaviour(**bodies: str) -> list[str]:
    """Every stream callback plus the context ones; each answers CONTINUE
    unless ``bodies`` gives its code (which must leave the answer)."""
    functions = []
    for name, arity in STREAM_CALLBACKS.items():
        params = " ".join(f"(param ${p} i32)" for p in ("ctx", "size", "eos")[:arity])
        functions.append(f'(func (export "{name}") {params} (result i32) {bodies.get(name, "(i32.const 0)")})')
    functions += ['(func (export "proxy_on_context_create") (param i32 i32))',
                  '(func (export "proxy_on_log") (param i32))',
                  '(func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))',
                  '(func (export "proxy_on_delete") (param i32))']
    functions += [bodies[name] for name in bodies if name.startswith("(func")]
    return functions


def chain(*plugins: dict[str, str], policies: tuple[FailurePolicy, ...] = (), fuel: int | None = None) -> ProxyHost:
    host = ProxyHost(HostConfig(log_level=LogLevel.TRACE))
    host.add_upstream("c")
    for index, bodies in enumerate(plugins):
        # Each in a VM of its own (plugins with the same code and vm_id would share one).
        settings: dict[str, object] = {"failure_policy": policies[index] if policies else FailurePolicy.FAIL_CLOSE,
                                       "vm_id": "ABC"[index]}
        if fuel is not None:
            settings["fuel_per_callback"] = fuel
        load(host, *behaviour(**bodies), name="ABC"[index], data={0x100: "c", 0x300: CALL_HEADERS}, **settings)
    return host


def stream_callbacks(host: ProxyHost, stream: str) -> list[tuple[str, str]]:
    return [(entry["plugin"], entry["name"].removeprefix("proxy_on_")) for entry in host.trace.entries
            if entry["type"] == "callback" and entry["stream"] == stream]


def full_exchange(stream: HttpStream) -> None:
    stream.send_request_headers({":path": "/"})
    stream.send_request_body("one")
    stream.send_request_body("two")
    stream.send_request_trailers({"t": "1"})


def test_the_order_of_callbacks_through_a_chain_of_two() -> None:
    host = chain({}, {})
    stream = host.open_stream("s", origin=OriginResponse.make(body=["r1", "r2"], trailers={"rt": "1"}))
    full_exchange(stream)
    assert stream.completed
    assert stream_callbacks(host, "s") == [
        ("A", "context_create"), ("A", "request_headers"), ("B", "context_create"), ("B", "request_headers"),
        ("A", "request_body"), ("B", "request_body"), ("A", "request_body"), ("B", "request_body"),
        ("A", "request_trailers"), ("B", "request_trailers"),
        ("B", "response_headers"), ("A", "response_headers"), ("B", "response_body"), ("A", "response_body"),
        ("B", "response_body"), ("A", "response_body"), ("B", "response_trailers"), ("A", "response_trailers"),
        ("A", "log"), ("B", "log"), ("A", "done"), ("A", "delete"), ("B", "done"), ("B", "delete")]
    assert [entry["context_id"] for entry in host.trace.entries if entry.get("stream") == "s"
            and entry["type"] == "callback"] == [2] * 24
    assert stream.upstream_request.trailers.items() == [("t", "1")]
    assert bytes(stream.downstream_response.body) == b"r1r2"
    host.shutdown()
    assert [(plugin, name) for plugin, name, context in host.trace.callbacks() if context == 1][-4:] == [
        ("A", "proxy_on_done"), ("A", "proxy_on_delete"), ("B", "proxy_on_done"), ("B", "proxy_on_delete")]


def test_headers_arguments_and_the_returned_action() -> None:
    host = chain({"proxy_on_request_headers": "(i32.const 1)"}, {})
    stream = host.open_stream("s")
    assert stream.send_request_headers({":path": "/", "x": "1"}, end_of_stream=True) is Action.PAUSE
    (entry, returned) = [entry for entry in host.trace.entries if entry.get("name") == "proxy_on_request_headers"]
    assert entry["args"] == {"context_id": 2, "num_headers": 2, "end_of_stream": True}
    assert returned["type"] == "callback_return" and returned["result"] == "PAUSE"


def test_paused_headers_hold_everything_until_continued() -> None:
    host = chain({"proxy_on_request_headers": DISPATCH + " (i32.const 1)",
                  "(func": RESUME_STREAM_2.format(direction=0)}, {})
    stream = host.open_stream("s", origin=OriginResponse.make())
    assert stream.send_request_headers({":path": "/"}) is Action.PAUSE
    assert stream.send_request_body("ab") is Action.CONTINUE
    assert stream.send_request_body("cd", end_of_stream=True) is Action.CONTINUE
    assert stream_callbacks(host, "s") == [("A", "context_create"), ("A", "request_headers")]
    assert stream.upstream_request is None
    assert stream.request_body == b"abcd"
    host.respond_http_call(host.pending_http_calls[0], HttpCallResponse.make())
    assert stream_callbacks(host, "s")[2:7] == [("B", "context_create"), ("B", "request_headers"),
                                                ("A", "request_body"), ("B", "request_body"),
                                                ("B", "response_headers")]
    bodies = [entry["args"] for entry in host.trace.entries
              if entry.get("name") == "proxy_on_request_body" and entry["type"] == "callback"]
    assert bodies[0] == {"context_id": 2, "body_size": 4, "end_of_stream": True}  # one chunk, as Envoy buffers
    assert bytes(stream.upstream_request.body) == b"abcd"
    assert stream.completed


BUFFER_UNTIL_END = """
  (call $keep (i32.add (i32.load (i32.const 0x1000)) (i32.const 1)) (local.get $size))
  (call $keep (i32.const 0) (i32.add (i32.load (i32.const 0x1000)) (i32.const 1)))
  (i32.eqz (local.get $eos))"""


def test_a_paused_body_is_buffered_and_sizes_are_cumulative() -> None:
    host = chain({"proxy_on_request_body": BUFFER_UNTIL_END}, {"proxy_on_request_body": BUFFER_UNTIL_END})
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"})
    assert stream.send_request_body("abc") is Action.PAUSE
    assert stream.send_request_body("def") is Action.PAUSE
    assert stream.upstream_request.body == b""
    assert stream.request_body == b"abcdef"
    assert stream.send_request_body("ghi", end_of_stream=True) is Action.CONTINUE
    first, second = host.plugins
    assert results(first, 4) == [3, 3, 6, 9]
    assert results(second, 2) == [1, 9]  # the whole body at once
    assert bytes(stream.upstream_request.body) == b"abcdefghi"


def test_continuing_a_paused_body_sends_the_buffer_on() -> None:
    host = chain({"proxy_on_request_body": DISPATCH + " (i32.const 1)",
                  "(func": RESUME_STREAM_2.format(direction=0)}, {})
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"})
    stream.send_request_body("ab")
    stream.send_request_body("cd")
    assert len(host.pending_http_calls) == 2
    host.respond_http_call(host.pending_http_calls[0], HttpCallResponse.make())
    assert bytes(stream.upstream_request.body) == b"abcd"
    sizes = [entry["args"]["body_size"] for entry in host.trace.entries
             if entry.get("name") == "proxy_on_request_body" and entry["plugin"] == "B"
             and entry["type"] == "callback"]
    assert sizes == [4]
    stream.send_request_body("ef", end_of_stream=True)
    assert bytes(stream.upstream_request.body) == b"abcd"  # paused again until the next answer
    host.respond_http_call(host.pending_http_calls[-1], HttpCallResponse.make())
    assert bytes(stream.upstream_request.body) == b"abcdef" and stream.completed


LOCAL_REPLY = ("(drop (call $proxy_send_local_response (i32.const 403) (i32.const 0x100) (i32.const 1)"
               " (i32.const 0x100) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const -1))) (i32.const 1)")


def test_a_local_reply_on_the_request_path_goes_back_through_the_earlier_plugins() -> None:
    host = chain({}, {"proxy_on_request_headers": LOCAL_REPLY}, {})
    stream = host.open_stream("s", origin=OriginResponse.make())
    assert stream.send_request_headers({":path": "/"}) is Action.PAUSE
    assert stream.completed and stream.upstream_request is None
    assert stream_callbacks(host, "s") == [
        ("A", "context_create"), ("A", "request_headers"), ("B", "context_create"), ("B", "request_headers"),
        ("B", "response_headers"), ("A", "response_headers"), ("B", "response_body"), ("A", "response_body"),
        ("A", "log"), ("B", "log"), ("C", "context_create"), ("C", "log"),
        ("A", "done"), ("A", "delete"), ("B", "done"), ("B", "delete"), ("C", "done"), ("C", "delete")]
    assert stream.downstream_response.status == 403
    assert (stream.local_response.plugin, stream.local_response.details) == ("B", "c")
    with pytest.raises(UsageError, match="stream s has ended"):
        stream.send_request_body("late")


def test_a_local_reply_on_the_response_path_goes_straight_to_the_client() -> None:
    host = chain({}, {"proxy_on_response_headers": LOCAL_REPLY})
    stream = host.open_stream("s", origin=OriginResponse.make({":status": "200"}, body="origin body"))
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    assert [name for plugin, name in stream_callbacks(host, "s") if "response" in name] == ["response_headers"]
    assert stream.downstream_response.status == 403
    assert bytes(stream.downstream_response.body) == b"c"
    assert stream.upstream_request.end_of_stream


TRAP = "unreachable"


@pytest.mark.parametrize("policy", [FailurePolicy.FAIL_CLOSE, FailurePolicy.FAIL_OPEN])
def test_a_trapping_plugin_under_each_failure_policy(policy: FailurePolicy) -> None:
    host = chain({}, {"proxy_on_request_headers": TRAP}, policies=(FailurePolicy.FAIL_CLOSE, policy))
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    (failure,) = host.failures
    assert (failure.plugin, failure.callback, failure.error, failure.stream) == (
        "B", "proxy_on_request_headers", "trap: unreachable", "s")
    assert failure.backtrace == ("B!proxy_on_request_headers @ 0x6da",)
    if policy is FailurePolicy.FAIL_CLOSE:
        assert stream.upstream_request is None
        assert stream.downstream_response.status == 503
        assert (stream.local_response.details, stream.failed_by) == ("wasm_fail_stream", "B")
    else:
        assert stream.upstream_request.end_of_stream
        assert stream.downstream_response.status == 200
    assert ("B", "log") not in stream_callbacks(host, "s")  # a failed plugin is never called again
    later = host.open_stream("later", origin=OriginResponse.make())
    later.send_request_headers({":path": "/"}, end_of_stream=True)
    assert later.downstream_response.status == (503 if policy is FailurePolicy.FAIL_CLOSE else 200)
    assert [plugin for plugin, _ in stream_callbacks(host, "later")].count("B") == 0


def test_a_plugin_failing_on_the_response_path_under_fail_close() -> None:
    host = chain({}, {"proxy_on_response_headers": TRAP})
    stream = host.open_stream("s", origin=OriginResponse.make(body="x"))
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    assert stream.downstream_response.status == 503
    assert ("A", "response_headers") not in stream_callbacks(host, "s")


def test_fuel_stops_a_looping_plugin() -> None:
    host = chain({"proxy_on_request_headers": "(loop $spin (br $spin)) (i32.const 0)"}, fuel=50_000)
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    assert host.failures[0].error == "fuel: fuel exhausted"
    assert stream.downstream_response.status == 503


def test_an_undefined_action_fails_the_plugin() -> None:
    host = chain({"proxy_on_request_headers": "(i32.const 7)"})
    stream = host.open_stream("s", origin=OriginResponse.make())
    assert stream.send_request_headers({":path": "/"}, end_of_stream=True) is Action.PAUSE
    assert host.failures[0].error == "returned 7, which is not an action (0 CONTINUE or 1 PAUSE)"
    assert stream.downstream_response.status == 503


def test_a_pause_never_resumed_is_reported_as_stalled() -> None:
    host = chain({}, {"proxy_on_request_headers": "(i32.const 1)"})
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    assert not stream.completed
    stream.finish()
    assert stream.completed
    assert stream.stalled == "request paused by plugin B in proxy_on_request_headers and never resumed"
    assert stream.downstream_response is None
    assert stream_callbacks(host, "s")[-6:] == [("A", "log"), ("B", "log"), ("A", "done"), ("A", "delete"),
                                                ("B", "done"), ("B", "delete")]


def test_a_stream_waiting_for_an_unanswered_call_is_stalled_too() -> None:
    host = chain({"proxy_on_request_headers": DISPATCH + " (i32.const 1)"})
    stream = host.open_stream("s")
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    host.shutdown()
    assert stream.stalled == "request paused by plugin A in proxy_on_request_headers and never resumed"


def test_playing_the_origin_by_hand() -> None:
    host = chain({}, {})
    stream = host.open_stream("s")
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    assert stream.upstream_request.end_of_stream and stream.downstream_response is None
    assert stream.send_response_headers({":status": "204"}) is Action.CONTINUE
    assert stream.send_response_body("x", end_of_stream=True) is Action.CONTINUE
    assert stream.completed and stream.downstream_response.status == 204
    with pytest.raises(UsageError):
        stream.send_response_body("more")


def test_what_cannot_be_sent() -> None:
    host = chain({})
    stream = host.open_stream("s", origin=OriginResponse.make())
    with pytest.raises(UsageError, match="send the request headers first"):
        stream.send_request_body("x")
    stream.send_request_headers({":path": "/"})
    with pytest.raises(UsageError, match="the request headers were already sent"):
        stream.send_request_headers({":path": "/"})
    with pytest.raises(UsageError, match="has an origin that answers by itself"):
        stream.send_response_headers({":status": "200"})
    stream.send_request_trailers({})
    with pytest.raises(UsageError):
        stream.send_request_body("x")
    with pytest.raises(UsageError, match="load every HTTP plugin before opening streams"):
        load(host, "", name="late")


@pytest.mark.parametrize(("policy", "status"), [(FailurePolicy.FAIL_CLOSE, 503), (FailurePolicy.FAIL_OPEN, 200)])
def test_a_plugin_failing_while_it_holds_a_stream(policy: FailurePolicy, status: int) -> None:
    host = chain({"proxy_on_request_headers": DISPATCH + " (i32.const 1)",
                  "(func": '(func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32) unreachable)'},
                 {}, policies=(policy, FailurePolicy.FAIL_CLOSE))
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    host.respond_http_call(host.pending_http_calls[0], HttpCallResponse.make())
    assert host.failures[0].callback == "proxy_on_http_call_response"
    assert stream.completed and stream.downstream_response.status == status
    assert (stream.upstream_request is not None) is (policy is FailurePolicy.FAIL_OPEN)


def test_paused_trailers_and_a_paused_response() -> None:
    host = chain({"proxy_on_request_trailers": DISPATCH + " (i32.const 1)",
                  "proxy_on_response_headers": DISPATCH + " (i32.const 1)",
                  "(func": """(func (export "proxy_on_http_call_response") (param i32) (param $token i32) (param i32 i32 i32)
                      (drop (call $proxy_set_effective_context (i32.const 2)))
                      (drop (call $proxy_continue_stream (i32.sub (local.get $token) (i32.const 1)))))"""}, {})
    stream = host.open_stream("s", origin=OriginResponse.make(body="resp"))
    stream.send_request_headers({":path": "/"})
    stream.send_request_body("body")
    assert stream.send_request_trailers({"t": "1"}) is Action.PAUSE
    assert bytes(stream.upstream_request.body) == b"body" and stream.upstream_request.trailers is None
    host.respond_http_call(host.pending_http_calls[0], HttpCallResponse.make())  # token 1: continue request
    assert stream.upstream_request.trailers.items() == [("t", "1")]
    assert stream.response_headers is not None and stream.downstream_response is None
    host.respond_http_call(host.pending_http_calls[0], HttpCallResponse.make())  # token 2: continue response
    assert stream.completed and bytes(stream.downstream_response.body) == b"resp"


ALWAYS_CALL_AGAIN = f"""(func (export "proxy_on_configure") (param i32 i32) (result i32) {DISPATCH} (i32.const 1))
(func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
  (call $keep (i32.const 0) (call $proxy_http_call (i32.const 0x100) (i32.const 1) (i32.const 0x300)
    (i32.const {len(CALL_HEADERS)}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
    (i32.const 0x2f0))))"""


def test_a_plugin_that_always_calls_again_is_stopped() -> None:
    from abi.enums import Status
    from abi.proxy.http_callouts import MAX_CALL_CHAIN, UpstreamResponse

    host = ProxyHost()
    host.add_upstream("c", [UpstreamResponse(200)])
    plugin = load(host, ALWAYS_CALL_AGAIN, data={0x100: "c", 0x300: CALL_HEADERS})
    assert len(host.http_calls) == MAX_CALL_CHAIN + 1
    assert results(plugin, 1) == [Status.INTERNAL_FAILURE]
    assert not plugin.failed


def test_a_fail_open_plugin_failing_in_the_body_lets_every_chunk_through() -> None:
    host = chain({"proxy_on_request_body": "unreachable"}, {}, policies=(FailurePolicy.FAIL_OPEN,
                                                                         FailurePolicy.FAIL_CLOSE))
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"})
    for chunk in ("one ", "two "):
        stream.send_request_body(chunk)
    stream.send_request_body("three", end_of_stream=True)
    assert bytes(stream.upstream_request.body) == b"one two three"
    assert [name for plugin, name in stream_callbacks(host, "s") if plugin == "B"].count("request_body") == 3
    assert stream.completed and stream.downstream_response.status == 200
