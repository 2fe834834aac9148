"""Scenario expectations (``abi.frontends.expectations``): what a scenario
expects of its streams, connections and run, checked by ``glasswasm proxy``
(every unmet expectation a line with what happened instead, exit status 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.cli.main import main

REPOSITORY = Path(__file__).resolve().parents[2]
AUTH = REPOSITORY / "examples" / "proxy" / "auth.wasm"
PLUGINS = REPOSITORY / "tests" / "plugins" / "c"
PAUSE_FOREVER = Path(__file__).parent / "scenarios" / "pause_forever.wat"


def run_proxy(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str]:
    scenario = tmp_path / "test.scenario.yaml"
    scenario.write_text(text)
    status = main(["proxy", str(scenario), *options])
    return status, capsys.readouterr().err


def test_the_example_meets_every_expectation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(REPOSITORY / "examples" / "proxy" / "auth.scenario.yaml")]) == 0
    assert capsys.readouterr().err == "glasswasm proxy: all 15 expectations met\n"


AUTH_STREAMS = f"""
plugins:
  - {{name: auth, wasm: {AUTH}, configuration: "s3cret=alice"}}
streams:
  - name: alice
    request:
      headers: {{":method": POST, ":path": /a, ":authority": x, authorization: Bearer s3cret, x-twice: [one]}}
      body: "request body"
      trailers: {{x-checksum: "7"}}
    expect:
      origin_received:
        headers: {{x-user: bob, x-twice: [one, two], x-missing: here}}
        headers_present: [x-user, x-nowhere]
        headers_absent: [":path", authorization]
        body: "other body"
        body_contains: "zzz"
        trailers: {{x-checksum: "8"}}
      logs: ["auth: allowed alice", {{contains: allowed, level: warn}}, "auth: allowed bob"]
      stalled: true
      reset: true
  - name: anonymous
    request: {{headers: {{":method": GET, ":path": /b, ":authority": x}}}}
    expect:
      status: 200
      origin_reached: true
      local_reply: {{status: 403, details: nope, plugin: auth, body: "no"}}
      origin_received: {{headers_present: [x-user]}}
      client_received:
        headers: {{www-authenticate: Basic, cache-control: private}}
        body_contains: token
expect:
  logs: [{{message: "auth: no bearer token", plugin: auth, level: info}}]
  metrics: {{auth.allowed: 2, auth.denied: {{count: 1}}, auth.never: 0, auth.allowed_twice: null}}
"""


def test_each_unmet_expectation_is_a_line_with_what_happened(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run_proxy(tmp_path, AUTH_STREAMS.replace("x-twice: [one]", "x-twice: one"), capsys)
    assert status == 1
    assert err.splitlines() == [
        "glasswasm proxy: 23 of 30 expectations not met:",
        '  scenario: logs[0]: expected a log line "auth: no bearer token" from auth at info, got no such line; '
        'the lines were: "auth: allowed alice"',
        "  scenario: metrics.auth.allowed: expected 2, got 1",
        "  scenario: metrics.auth.denied: expected a histogram with count 1, got 1",
        "  scenario: metrics.auth.never: expected 0, got no such metric",
        '  stream alice: origin_received.headers.x-user: expected "bob", got "alice"',
        '  stream alice: origin_received.headers.x-twice: expected "one", "two", got "one"',
        '  stream alice: origin_received.headers.x-missing: expected "here", got no header x-missing',
        "  stream alice: origin_received.headers_present: expected header x-nowhere, got no header x-nowhere",
        '  stream alice: origin_received.headers_absent: expected no header :path, got :path: "/a"',
        '  stream alice: origin_received.body: expected "other body" (10 bytes), got "request body" (12 bytes)',
        '  stream alice: origin_received.body_contains: expected a body containing "zzz", got "request body" '
        '(12 bytes)',
        '  stream alice: origin_received.trailers.x-checksum: expected "8", got "7"',
        '  stream alice: logs[1]: expected a log line containing "allowed" at warn, got no such line after logs[0] '
        '(no matching lines after logs[0])',
        '  stream alice: logs[2]: expected a log line "auth: allowed bob", got no such line after logs[0] '
        '(no lines after logs[0])',
        "  stream alice: stalled: expected a stall, got no stall",
        "  stream alice: reset: expected a reset, got no reset",
        "  stream anonymous: status: expected 200, got 401 (local reply 401 by auth: missing_token)",
        "  stream anonymous: origin_reached: expected the origin to be reached, got the origin was never reached "
        "(local reply 401 by auth: missing_token)",
        "  stream anonymous: local_reply.status: expected 403, got 401",
        '  stream anonymous: local_reply.details: expected "nope", got "missing_token"',
        '  stream anonymous: local_reply.body: expected "no", got "a bearer token is required\\n"',
        "  stream anonymous: origin_received: expected the request at the origin, got nothing: the origin was "
        "never reached (local reply 401 by auth: missing_token)",
        '  stream anonymous: client_received.headers.www-authenticate: expected "Basic", got "Bearer"',
    ]


def test_expectations_that_hold_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    met = AUTH_STREAMS.replace("x-twice: [one]", "x-twice: [one], x-twice2: two")
    met = met.split("streams:")[0] + """streams:
  - name: alice
    request:
      headers: [[":method", POST], [":path", /a], [":authority", x], [authorization, Bearer s3cret],
                [x-twice, one], [x-twice, two]]
      body: "request body"
      trailers: {x-checksum: "7"}
    response: {headers: {":status": "200"}, body: ["hello ", "you"]}
    expect:
      status: 200
      origin_reached: true
      local_reply: false
      origin_received:
        headers: {x-user: alice, X-Twice: [one, two]}
        headers_present: [x-user]
        headers_absent: [authorization]
        body: {base64: cmVxdWVzdCBib2R5}
        body_contains: "body"
        trailers: {x-checksum: 7}
      client_received: {headers: {cache-control: private}, body: hello you}
      logs: [{contains: allowed, plugin: auth, level: info}]
      stalled: false
      reset: false
  - name: anonymous
    request: {headers: {":method": GET, ":path": /b, ":authority": x}}
    expect:
      local_reply: {status: 401, details: missing_token, plugin: auth, body: "a bearer token is required\\n"}
      logs: ["auth: no bearer token"]
expect:
  logs: ["auth: allowed alice", {message: "auth: no bearer token", level: warn}]
  metrics: {auth.allowed: 1, auth.denied: 1, auth.never: null}
"""
    status, err = run_proxy(tmp_path, met, capsys)
    assert (status, err) == (0, "glasswasm proxy: all 25 expectations met\n")
    # Without any expectation, nothing is said.
    status, err = run_proxy(tmp_path, met.split("streams:")[0] + "streams: [{request: {headers: {':path': /}}}]\n",
                            capsys)
    assert (status, err) == (0, "")


TCP = f"""
network_plugins: [{{name: tcp_rewrite, wasm: {PLUGINS / "tcp_rewrite.wasm"}}}]
connections:
  - name: chat
    events: [{{downstream: "hello\\n"}}, {{upstream: "hi", end_of_stream: true}}]
    expect:
      origin_received: {{data: "HELLO\\n", bytes: 6, end_of_stream: false}}
      client_received: {{data_contains: "hi", end_of_stream: true}}
      closed_by: the proxy (shutting down)
      stalled: false
      logs: [{{contains: "downstream data 6 bytes"}}]
  - name: quit
    events: [{{downstream: "QUIT\\n"}}]
    expect:
      origin_received: {{data: "QUIT\\n", bytes: 5, end_of_stream: true}}
      client_received: {{data_contains: "bye"}}
      closed_by: client
      stalled: true
"""


def test_connection_expectations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run_proxy(tmp_path, TCP, capsys)
    assert status == 1
    assert err.splitlines() == [
        "glasswasm proxy: 6 of 14 expectations not met:",
        '  connection quit: origin_received.data: expected "QUIT\\n" (5 bytes), got "" (0 bytes)',
        '  connection quit: origin_received.bytes: expected 5 bytes, got "" (0 bytes)',
        "  connection quit: origin_received.end_of_stream: expected the end of the stream, got no end of the stream",
        '  connection quit: client_received.data_contains: expected data containing "bye", got "" (0 bytes)',
        '  connection quit: closed_by: expected "client", got "plugin tcp_rewrite"',
        "  connection quit: stalled: expected a stall, got no stall",
    ]


PANIC = f"""
plugins:
  - {{name: header_rewrite, wasm: {PLUGINS / "header_rewrite.wasm"}}}
  - {{name: panic, wasm: {PLUGINS / "panic.wasm"}, failure: fail_open}}
streams:
  - name: crash
    request: {{headers: {{":method": GET, ":path": /, ":authority": x, x-crash: "1"}}}}
  - name: calm
    request: {{headers: {{":method": GET, ":path": /, ":authority": x}}}}
    expect: {{status: 200}}
"""


@pytest.mark.parametrize(("expect", "options", "status", "lines"), [
    ("failures: [panic]", (), 0, ["glasswasm proxy: all 3 expectations met"]),
    ("failures: true", (), 0, ["glasswasm proxy: the one expectation met"]),
    ("failures: [{plugin: panic, callback: proxy_on_request_headers, stream: crash, error: unreachable}]", (), 0,
     ["glasswasm proxy: all 3 expectations met"]),
    ("failures: [{plugin: panic, error: out of bounds}]", (), 1, [
        "glasswasm proxy: 2 of 3 expectations not met:",
        '  scenario: failures[0]: expected plugin panic to fail with an error containing "out of bounds", got '
        "panic failing in proxy_on_request_headers (stream crash): trap: unreachable",
        "  stream crash: failures: expected no plugin failure but those expect.failures lists, got panic failing "
        "in proxy_on_request_headers (stream crash): trap: unreachable",
        "  (list the plugins expected to fail in expect.failures, or pass --allow-failures)"]),
    ("failures: [header_rewrite]", ("--allow-failures",), 1, [
        "glasswasm proxy: 1 of 2 expectations not met:",
        "  scenario: failures[0]: expected plugin header_rewrite to fail, got no failure of header_rewrite"]),
    ("failures: []", ("--allow-failures",), 0, ["glasswasm proxy: the one expectation met"]),
    ("failures: false", (), 1, [
        "glasswasm proxy: 1 of 2 expectations not met:",
        "  stream crash: failures: expected no plugin failure but those expect.failures lists, got panic failing "
        "in proxy_on_request_headers (stream crash): trap: unreachable",
        "  (list the plugins expected to fail in expect.failures, or pass --allow-failures)"]),
])
def test_failures_are_expectations(tmp_path: Path, capsys: pytest.CaptureFixture[str], expect: str,
                                   options: tuple[str, ...], status: int, lines: list[str]) -> None:
    assert run_proxy(tmp_path, PANIC + f"expect: {{{expect}}}\n", capsys, *options) == (status, "\n".join(
        [*lines, ""]) if lines else "")


@pytest.mark.parametrize(("expect", "message"), [
    ("expect: {status: 99}", "streams[0].expect.status: expected an integer from 100 to 999, got a number"),
    ("expect: {colour: red}", "streams[0].expect.colour: unknown key (expected one of: status, origin_reached, "
                              "local_reply, origin_received, client_received, logs, stalled, reset)"),
    ("expect: {local_reply: {plugin: nobody}}", "streams[0].expect.local_reply.plugin: no plugin named 'nobody'"),
    ("expect: {logs: [{level: loud, message: x}]}", "streams[0].expect.logs[0].level: expected one of trace, "
                                                    "debug, info, warn, error, critical"),
    ("expect: {logs: [{message: x, contains: y}]}", "streams[0].expect.logs[0]: give either message (the whole "
                                                    "line) or contains"),
    ("expect: {origin_received: {headers: {x-a: []}}}", "streams[0].expect.origin_received.headers.x-a: expected "
                                                        "at least one value (headers_absent says a header is not "
                                                        "there)"),
    ("expect: {client_received: {body: 5}}", "streams[0].expect.client_received.body: expected text or "
                                             "{base64: ...}, got a number"),
])
def test_bad_stream_expectations_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], expect: str,
                                              message: str) -> None:
    text = f"plugins: [{{name: auth, wasm: {AUTH}}}]\nstreams: [{{request: {{headers: {{':path': /}}}}, {expect}}}]\n"
    status, err = run_proxy(tmp_path, text, capsys)
    assert status == 1
    assert err == f"error: {tmp_path / 'test.scenario.yaml'}: {message}\n"


@pytest.mark.parametrize(("expect", "message"), [
    ("{failures: [nobody]}", "expect.failures[0]: no plugin named 'nobody'"),
    ("{failures: [{callback: x}]}", "expect.failures[0].plugin: missing: which plugin fails"),
    ("{metrics: {m: {}}}", "expect.metrics.m: give count, sum and/or values"),
    ("{metrics: {m: {values: [1, x]}}}", "expect.metrics.m.values[1]: expected an integer from 0 to "
                                         "9223372036854775807, got text"),
    ("{metrics: {m: one}}", "expect.metrics.m: expected an integer from -9223372036854775808 to "
                            "9223372036854775807, got text"),
    ("{streams: 1}", "expect.streams: unknown key (expected one of: failures, logs, metrics)"),
])
def test_bad_run_expectations_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], expect: str,
                                           message: str) -> None:
    status, err = run_proxy(tmp_path, f"plugins: [{{name: auth, wasm: {AUTH}}}]\nexpect: {expect}\n", capsys)
    assert status == 1
    assert err == f"error: {tmp_path / 'test.scenario.yaml'}: {message}\n"


def test_bad_connection_expectations_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = TCP.replace("closed_by: client", "closed_by: {who: client}")
    status, err = run_proxy(tmp_path, text, capsys)
    assert status == 1
    assert err == f"error: {tmp_path / 'test.scenario.yaml'}: connections[1].expect.closed_by: expected text, " \
                  f"got a mapping\n"
