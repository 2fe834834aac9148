"""``glasswasm proxy``: the JSON report, the summary, the trace, bad input
as one line with exit status 1, and byte-identical reruns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interp.cli.main import main
from interp.exec.engines import available_engines

SCENARIOS = Path(__file__).parent / "scenarios"
REPOSITORY = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "interp", "proxy", *args], capture_output=True, text=True,
                          cwd=REPOSITORY, env={**os.environ, **(env or {})}, timeout=120)


def test_summary_of_a_stalled_stream(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(SCENARIOS / "stalled.yaml")]) == 0
    assert capsys.readouterr().out == (
        "plugins (request order):\n"
        "  pause_forever: ABI 0.2.1, fail_close, ok\n"
        "stream stuck: GET example.com/\n"
        "  origin: never reached\n"
        "  client got: no response\n"
        "  STALLED: request paused by plugin pause_forever in proxy_on_request_headers and never resumed\n"
        "logs (0):\n"
        "metrics (0):\n"
        "failures (0):\n")


def test_json_report_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(SCENARIOS / "stalled.yaml"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report) == ["plugins", "network_plugins", "services", "streams", "connections", "http_calls",
                            "grpc_calls", "logs", "logs_dropped", "metrics", "shared_data", "queues", "reconfigurations",
                            "host_call_errors", "failures", "time_ms"]
    (stream,) = report["streams"]
    assert list(stream) == ["name", "plugins", "upstream_request", "downstream_response", "local_response",
                            "http_calls", "grpc_calls", "stalled", "reset", "failed_by"]
    assert stream["stalled"].startswith("request paused by plugin pause_forever")
    assert report["plugins"] == [{"name": "pause_forever", "kind": "http", "wasm": "pause_forever.wat",
                                  "abi_version": "0.2.1", "root_id": "", "vm_id": "", "vm": "pause_forever",
                                  "failure_policy": "fail_close", "failed": False, "reloads": 0, "generation": 0,
                                  "ticks": 0, "origin": None}]


def test_trace_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "trace.jsonl"
    assert main(["proxy", str(SCENARIOS / "auth_metrics.yaml"), "--trace", str(trace)]) == 0
    capsys.readouterr()
    entries = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [entry["seq"] for entry in entries] == list(range(len(entries)))
    headers = next(entry for entry in entries if entry.get("name") == "proxy_on_request_headers")
    assert headers["args"] == {"context_id": 2, "num_headers": 4, "end_of_stream": True}
    returned = next(entry for entry in entries if entry["type"] == "callback_return"
                    and entry["name"] == "proxy_on_request_headers")
    assert returned["result"] == "PAUSE" and returned["stream"] == headers["stream"] == "allowed"
    call = next(entry for entry in entries if entry.get("name") == "proxy_http_call")
    assert call["args"]["upstream"] == "auth" and call["status"] == "OK" and call["result"] == {"token": 1}
    assert call["args"]["headers"][:3] == [[":method", "GET"], [":path", "/verify"], [":authority", "auth"]]
    answer = next(entry for entry in entries if entry.get("name") == "proxy_on_http_call_response")
    assert answer["context_id"] == 1 and answer["args"]["token"] == 1
    map_reads = [entry for entry in entries if entry.get("name") == "proxy_get_header_map_value"]
    assert map_reads[0]["args"]["map"] in ("REQUEST_HEADERS", "HTTP_CALL_RESPONSE_HEADERS")
    events = [entry["event"] for entry in entries if entry["type"] == "event"]
    assert events[:3] == ["vm_start", "plugin_load", "stream_open"] and events.count("stream_end") == 3


def test_the_same_scenario_gives_byte_identical_output(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        trace = tmp_path / f"trace{seed}.jsonl"
        result = run_cli(str(SCENARIOS / "gateway.yaml"), "--json", "--trace", str(trace),
                         env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        outputs.append((result.stdout, trace.read_bytes()))
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0][0])["streams"][0]["name"] == "allowed"


@pytest.mark.parametrize(("scenario_text", "message"), [
    ("plugins: [{wasm: nope.wasm}]", "plugins[0].wasm: no such file: "),
    ("plugins: {", "invalid YAML at line 1"),
    ("plugins: [{wasm: not_a_plugin.wat}]",
     "plugin not_a_plugin: not a proxy-wasm plugin: it exports no ABI version marker"),
    ("plugins: [{wasm: memory64.wat}]", "memory 0 is 64-bit (memory64), but proxy-wasm passes 32-bit pointers"),
])
def test_bad_input_is_one_line_and_exit_status_1(tmp_path: Path, scenario_text: str, message: str) -> None:
    (tmp_path / "not_a_plugin.wat").write_text("(module)")
    (tmp_path / "memory64.wat").write_text('(module (memory i64 1) (func (export "proxy_abi_version_0_2_1")))')
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(scenario_text)
    result = run_cli(str(scenario))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("error: ")


def test_unwritable_trace_and_missing_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(SCENARIOS / "stalled.yaml"), "--trace", str(tmp_path / "no" / "t.jsonl")]) == 1
    assert "error: cannot write the trace to" in capsys.readouterr().err
    assert main(["proxy", str(tmp_path / "missing.yaml")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path}/missing.yaml: cannot read the scenario")


def test_the_engine_never_imports_the_host() -> None:
    code = ("import sys, interp.cli.main, interp.loader, interp.exec.store, interp.wasi; "
            "print(sorted(name for name in sys.modules if name == 'abi' or name.startswith('abi.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPOSITORY, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


RAW_BYTES_PLUGIN = r'''(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "bad \ff caf\c3\a9")
  (data (i32.const 48) "x-raw")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $log (i32.const 2) (i32.const 16) (i32.const 11)))
    (drop (call $add (i32.const 0) (i32.const 48) (i32.const 5) (i32.const 20) (i32.const 1)))
    (drop (call $define (i32.const 0) (i32.const 20) (i32.const 1) (i32.const 64)))
    (i32.const 0)))
'''


def test_bytes_that_are_not_utf8_are_reported_deterministically(tmp_path: Path) -> None:
    (tmp_path / "raw.wat").write_text(RAW_BYTES_PLUGIN)
    scenario = tmp_path / "raw.yaml"
    scenario.write_text("plugins: [{wasm: raw.wat}]\nstreams: [{request: {headers: {':path': /}}}]\n")
    trace = tmp_path / "trace.jsonl"
    result = run_cli(str(scenario), "--json", "--trace", str(trace), env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.isascii()
    report = json.loads(result.stdout)
    assert report["logs"][0]["message"] == "bad \\xff café"
    assert ["x-raw", "\\xff"] in report["streams"][0]["upstream_request"]["headers"]
    assert report["metrics"] == {"\\xff": 0}
    assert any(json.loads(line).get("args", {}).get("message") == "bad \\xff café"
               for line in trace.read_text().splitlines())
    summary = run_cli(str(scenario), env={"PYTHONIOENCODING": "ascii"})
    assert "[info] raw: bad \\xff caf\\xe9" in summary.stdout


def test_summary_of_failures_local_replies_and_calls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(SCENARIOS / "panic_fail_close.yaml")]) == 0
    summary = capsys.readouterr().out
    assert "  panic: ABI 0.2.1, fail_close, FAILED\n" in summary
    assert "  local reply by panic: 503 wasm_fail_stream\n" in summary
    assert summary.endswith("failures (1):\n"
                            "  panic in proxy_on_request_headers (stream crash): trap: unreachable\n"
                            "    0: panic!crash_unreachable @ 0x342\n"
                            "    1: panic!proxy_on_request_headers @ 0x2aa\n")
    assert main(["proxy", str(SCENARIOS / "gateway.yaml")]) == 0
    summary = capsys.readouterr().out
    assert "  http call auth_call#3 to auth: failed (reset)\n" in summary
    assert "  http call auth_call#2 to auth: answered 401\n" in summary
    assert "  metrics_properties.request_body_bytes = count 1, sum 20\n" in summary


@pytest.mark.parametrize("scenario", sorted(SCENARIOS.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_engine_gives_the_same_report_and_trace(scenario: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for engine in available_engines():
        trace = tmp_path / f"{engine}.jsonl"
        assert main(["proxy", str(scenario), "--json", "--engine", engine, "--trace", str(trace)]) == 0
        outputs.append((capsys.readouterr().out, trace.read_text()))
    assert all(output == outputs[0] for output in outputs)


def test_the_summary_shows_what_plugins_changed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(SCENARIOS / "gateway.yaml")]) == 0
    summary = capsys.readouterr().out
    allowed = summary.split("stream allowed: ", 1)[1].split("\nstream ", 1)[0].splitlines()
    assert allowed[:10] == [
        "POST shop.example.com/old/orders?id=7",          # what the client asked for, not the rewritten path
        "  origin got: 8 headers, 28 body bytes",
        "    ~ :path: /old/orders?id=7 -> /new/orders?id=7",
        "    + x-as-filter: deny_admin",
        "    + x-checked-path: /old/orders?id=7",
        "    + x-added: hello",
        "    + x-user: alice",
        "    - x-remove-me: 1",
        "    - content-length: 20",
        '    ~ body: "my secret is secret!" (20 bytes) -> "my [redacted] is [redacted]!" (28 bytes)',
    ]
    assert allowed[10] == "  client got: 200 with 11 headers, 40 body bytes"
    assert allowed[-3:] == [
        "    - content-length: 11",
        '    ~ body: "hello world" (11 bytes) -> "HELLO WORLD\\n[rewritten by body_rewrite]\\n" (40 bytes)',
        "  http call auth_call#1 to auth: answered 200",
    ]
    assert "stream admin: GET shop.example.com/admin/users\n  origin: never reached\n  local reply by deny_admin: " \
           '403 admin_denied\n  client got: 403 with 5 headers, 20 body bytes: "admin access denied\\n"\n' in summary
    assert main(["proxy", str(SCENARIOS / "tcp_rewrite.yaml")]) == 0
    assert 'connection chat:\n  origin got: 10 bytes: "HELLO\\nBYE\\n"\n  client got: 14 bytes: "[up] hi[up] ok"\n' \
        in capsys.readouterr().out


def test_the_summary_names_only_the_chains_a_run_has(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(SCENARIOS / "tcp_rewrite.yaml")]) == 0
    summary = capsys.readouterr().out
    assert summary.startswith("network plugins:\n  tcp_rewrite: ")
    assert "plugins (request order)" not in summary

