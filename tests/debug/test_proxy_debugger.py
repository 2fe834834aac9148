"""The debugger over a whole proxy run: ``glasswasm proxy SCENARIO --debug``
scripted through standard input, and ``HostDebugSession`` from Python
(scenarios and the test API), on the quota filter (built with DWARF,
tests/debug/programs/quota.c) and the real filters of tests/plugins."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from abi.frontends.debugger import scenario_debugger
from abi.testing import (HostDebugSession, HostStopKind, OriginResponse, debug_session, proxy_host,
                         request_headers)
from interp.cli.main import main
from interp.errors import UsageError

PROGRAMS = Path(__file__).parent / "programs"
QUOTA = PROGRAMS / "quota.yaml"
SCENARIOS = Path(__file__).resolve().parents[1] / "abi" / "scenarios"
PLUGINS = Path(__file__).resolve().parents[1] / "plugins" / "c"


def run_debugger(scenario: Path, commands: str, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(commands))
    assert main(["proxy", str(scenario), "--debug"]) == 0
    return capsys.readouterr().out


@pytest.fixture
def quota() -> Iterator[HostDebugSession]:
    session = scenario_debugger(QUOTA)
    yield session
    session.close()


def test_a_scripted_session_on_a_scenario(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_debugger(QUOTA, "break quota:quota.c:68 if left < 0\ncontinue\nlocals\nprint *client\nbt\n"
                              "info headers\nnext\nquit\n", monkeypatch, capsys)
    assert out.startswith("debugging quota.yaml: plugins quota, rewrite; the plugins run on the step machine\n"
                          "callback #0, 1 ms: quota: proxy_on_configure(1, 1)\n")
    assert "(glasswasm) break quota:quota.c:68 if left < 0\nbreakpoint 1: quota:quota.c:68 if left < 0\n" in out
    # alice's third request is the first where the condition holds
    assert "[breakpoint 1 (quota:quota.c:68)] at step" in out
    assert "callback #14, 15 ms: quota: proxy_on_request_headers(5, 4, 1) on alice-3\n" in out
    assert "quota.c:68:9: if (left < 0) {\n" in out
    assert "client = 0x4a0 (struct client *)\nleft = -1 (int)\n" in out
    assert "*client = {name = \"alice\", requests = 3} (struct client)\n" in out
    assert ("#0  proxy_on_request_headers @ 0x0852 (/glasswasm/tests/debug/programs/quota.c:68:9)\n"
            "    in callback proxy_on_request_headers(5, 4, 1) of plugin quota, stream alice-3 — callback #14, "
            "15 ms\n") in out
    assert "stream alice-3:\n  request headers (4):\n    :method: GET\n    :path: /\n" in out
    assert "quota.c:69:67: log_format(LOG_WARN" in out


def test_breakpoints_on_callbacks_streams_host_calls_and_functions(quota: HostDebugSession) -> None:
    callback = quota.break_at("callback rewrite!on_request_headers")
    stop = quota.continue_()
    assert stop.kind is HostStopKind.BREAKPOINT and stop.breakpoint is callback
    assert (quota.callback.plugin, quota.callback.name, quota.callback.stream) == \
        ("rewrite", "proxy_on_request_headers", "alice-1")
    assert quota.session.current.func.name == "proxy_on_request_headers" and quota.session.position == 0
    quota.delete(callback.number)
    stream = quota.break_at("stream bob-1", temporary=True)
    stop = quota.continue_()
    assert stop.breakpoint is stream and quota.callback.stream == "bob-1" and stream.number not in quota.breakpoints
    host = quota.break_at("host quota!proxy_send_local_response")
    stop = quota.continue_()
    assert stop.breakpoint is host and quota.callback.stream == "alice-3"
    assert quota.stream.local_response is None  # stopped before the call
    quota.step()
    function = quota.break_at("quota!find_client")
    assert quota.continue_().kind is HostStopKind.FINISHED  # no request after alice-3's
    assert function.hits == 0 and host.hits == 1
    assert quota.host.streams[-1].local_response.status == 429


def test_unknown_names_are_errors(quota: HostDebugSession) -> None:
    for spec, message in [("nosuch!f", "no plugin named 'nosuch'"),
                          ("quota!nosuch", "plugin 'quota' has no function 'nosuch'"),
                          ("quota:quota.c:1", "plugin 'quota' has no code for quota.c:1"),
                          ("callback quota!proxy_on_tick", "no plugin 'quota' exports the callback 'proxy_on_tick'"),
                          ("stream carol", "no stream or connection named 'carol'"),
                          ("host quota!proxy_http_call", "plugin 'quota' imports no host function"),
                          ("failure nosuch", "no plugin named 'nosuch'"),
                          ("nowhere", "no plugin has a function 'nowhere'")]:
        with pytest.raises(UsageError, match=message):
            quota.break_at(spec)
    assert quota.breakpoints == {}


def test_stepping_crosses_from_one_callback_to_the_next(quota: HostDebugSession) -> None:
    first = quota.callback
    quota.run_in_callback(lambda session: session.finish())
    assert quota.returned and quota.result() is True  # proxy_on_configure answered true
    assert quota.position == first.end
    quota.step()
    assert quota.callback.index == first.index + 1 and quota.position == first.end + 1
    assert quota.session.position == 0


def test_going_back_is_exact(quota: HostDebugSession) -> None:
    quota.break_at("quota:quota.c:68")
    quota.continue_()
    quota.continue_()  # alice-2
    seen = (quota.position, quota.session.evaluate("left").storage.data, quota.stream.name,
            quota.stream.request_headers.items())
    quota.step(300)  # on past the host calls that add the header and into later callbacks
    assert quota.position == seen[0] + 300
    assert quota.reverse_step(300).kind is HostStopKind.STEP
    assert (quota.position, quota.session.evaluate("left").storage.data, quota.stream.name,
            quota.stream.request_headers.items()) == seen
    # ... and going forward again gives the same as the first time
    quota.step(300)
    later = quota.position
    stop = quota.reverse_continue()
    assert stop.kind is HostStopKind.BREAKPOINT and quota.position == seen[0] and later > seen[0]
    assert quota.reverse_step(10 ** 9).kind is HostStopKind.START and quota.position == 0


def test_going_back_within_a_callback_uses_its_snapshots(quota: HostDebugSession) -> None:
    quota.break_at("quota!find_client")
    quota.continue_()
    runs = quota.runs
    quota.step(5)
    quota.reverse_step(3)
    assert quota.runs == runs  # no host call in between: not run again
    quota.go_to(quota.position + 2)
    quota.go_to(quota.position)
    assert quota.runs == runs  # forward, or staying: never run again
    quota.break_at("host quota!proxy_add_header_map_value")
    quota.continue_()
    quota.step(2)  # the host call, and one more
    before = quota.position
    quota.reverse_step(3)
    assert quota.runs == runs + 1 and quota.position == before - 3  # a host call in between: run again to there
    assert quota.stream.request_headers.get("x-quota-left") is None


def test_a_trap_stops_and_failures_can_be_broken_on(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = run_debugger(SCENARIOS / "panic_fail_open.yaml", "break failure\ncontinue\nbt\ninfo failures\ncontinue\n"
                                                           "info failures\nquit\n", monkeypatch, capsys)
    assert "[trap: unreachable] at step 7535\n  0: panic!crash_unreachable @ 0x342\n" in out
    assert "proxy_on_request_headers trapped: trap: unreachable\ncrash_unreachable @ 0x0342: unreachable" in out
    assert ("#0  crash_unreachable @ 0x0342\n#1  proxy_on_request_headers @ 0x02aa\n    in callback "
            "proxy_on_request_headers(2, 5, 1) (trapped) of plugin panic, stream crash") in out
    assert "(glasswasm) info failures\nno failures yet\n" in out
    # the failure the trap makes is not a second stop
    assert "(glasswasm) continue\nthe run has finished: 9 callbacks, 17694 steps, 9 ms\n(glasswasm) info failures\n" \
           "plugin panic failed in proxy_on_request_headers: trap: unreachable (stream crash)\n" in out


def test_a_failure_found_after_a_callback_returns() -> None:
    session = scenario_debugger(SCENARIOS / "sdk_strict.yaml")
    try:
        breakpoint = session.break_at("failure go_missing")
        stop = session.continue_()
        assert stop.kind is HostStopKind.BREAKPOINT and stop.breakpoint is breakpoint
        assert stop.failure.describe() == ("plugin go_missing failed in proxy_on_configure: returned false: the "
                                           "plugin rejected its configuration")
        assert session.session is None and session.position == session.callbacks[-1].end
        assert session.callbacks[-1].name == "proxy_on_configure"
        assert session.continue_().kind is HostStopKind.FINISHED and breakpoint.hits == 1
    finally:
        session.close()


def test_python_api_over_a_test_host() -> None:
    def make(**debugging: object):
        return proxy_host(str(PLUGINS / "header_rewrite.wasm"), configuration="x-added=yes", **debugging)

    def drive(host):
        stream = host.open_stream(origin=OriginResponse.make(body="hi"))
        stream.send_request_headers(request_headers("/old/x"), end_of_stream=True)
        host.shutdown()

    session = debug_session(make, drive)
    try:
        session.break_at("host header_rewrite!proxy_replace_header_map_value")
        stop = session.continue_()
        assert stop.kind is HostStopKind.BREAKPOINT and session.stream.request_headers.get(":path") == "/old/x"
        session.step()
        assert session.stream.request_headers.get(":path") == "/new/x"
        assert session.continue_().kind is HostStopKind.FINISHED
        assert session.host.streams[0].upstream_request.headers.get("x-added") == "yes"
    finally:
        session.close()


def test_debug_excludes_the_other_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(QUOTA), "--debug", "--json"]) == 1
    assert capsys.readouterr().err == "error: --debug runs the scenario under the debugger only; leave out --json\n"


REPOSITORY = Path(__file__).resolve().parents[2]


def readme_section() -> str:
    return (REPOSITORY / "README.md").read_text().split("#### Debugging a proxy run", 1)[1].split("\n### ", 1)[0]


def test_the_readme_transcript_is_what_the_debugger_prints(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    block = readme_section().split("```\n", 1)[1].split("```", 1)[0]
    command, _, transcript = block.partition(" \\\n    | glasswasm proxy tests/debug/programs/quota.yaml --debug\n")
    commands = command.split("printf '", 1)[1].rsplit("'", 1)[0].replace("\\n", "\n")
    monkeypatch.chdir(REPOSITORY)
    assert run_debugger(Path("tests/debug/programs/quota.yaml"), commands, monkeypatch, capsys) == transcript


def test_the_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    code = readme_section().split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(REPOSITORY)
    exec(compile(code, "README.md", "exec"), {})
