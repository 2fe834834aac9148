"""What ``glasswasm proxy`` writes to see inside a run: focused instruction
traces (``--trace-instructions PLUGIN[!FUNCTION]``), the simulated time and
step of every entry, the Chrome Trace Event timeline (checked against the
format's rules), traces on standard output, and the profile."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from interp.cli.main import main

PROGRAMS = Path(__file__).parent / "programs"
QUOTA = PROGRAMS / "quota.yaml"
GATEWAY = Path(__file__).resolve().parents[1] / "abi" / "scenarios" / "gateway.yaml"
INSTRUCTION_TYPES = {"instr", "call", "return", "host_call", "host_return", "memory_read", "memory_write",
                     "global_write", "trap"}


def trace_of(tmp_path: Path, scenario: Path, *options: str) -> list[dict[str, Any]]:
    path = tmp_path / "trace.jsonl"
    assert main(["proxy", str(scenario), "--trace", str(path), *options]) == 0
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_only_the_chosen_plugin_is_traced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = trace_of(tmp_path, QUOTA, "--trace-instructions", "quota")
    traced = [entry for entry in entries if entry["type"] in INSTRUCTION_TYPES]
    assert traced and {entry["plugin"] for entry in traced} == {"quota"}
    steps = [entry["step"] for entry in traced if entry["type"] == "instr"]
    assert steps == list(range(len(steps)))  # every instruction of the plugin's VM, numbered in order
    assert all(isinstance(entry["time_ns"], int) for entry in entries)
    times = [entry["time_ns"] for entry in entries]
    assert times == sorted(times) and times[-1] > 0


def test_plugin_and_function(tmp_path: Path) -> None:
    entries = trace_of(tmp_path, QUOTA, "--trace-instructions", "quota!find_client",
                       "--trace-instructions", "rewrite!on_request_headers")
    functions = Counter((entry["plugin"], entry["func"]) for entry in entries if entry["type"] == "instr")
    assert set(functions) == {("quota", "find_client"), ("rewrite", "proxy_on_request_headers")}
    calls = [entry for entry in entries if entry["type"] == "call" and entry["plugin"] == "quota"]
    assert [call["func"] for call in calls] == ["find_client"] * 4  # one per request with x-client


@pytest.mark.parametrize(("selector", "message"), [
    ("nosuch", "error: no plugin named 'nosuch' (plugins: quota, rewrite)\n"),
    ("quota!nosuch", "error: plugin 'quota' has no function 'nosuch'\n"),
    ("quota!find_clent", "error: plugin 'quota' has no function 'find_clent' (did you mean 'find_client'?)\n"),
    ("quota!", "error: --trace-instructions takes PLUGIN or PLUGIN!FUNCTION, not 'quota!'\n"),
])
def test_unknown_names_are_errors_not_empty_traces(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   selector: str, message: str) -> None:
    path = tmp_path / "trace.jsonl"
    assert main(["proxy", str(QUOTA), "--trace", str(path), "--trace-instructions", selector]) == 1
    assert capsys.readouterr().err == message
    assert not path.exists()


def test_a_trace_on_standard_output_is_all_the_output_has(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(QUOTA), "--trace", "-", "--trace-instructions", "quota!find_client"]) == 0
    captured = capsys.readouterr()
    entries = [json.loads(line) for line in captured.out.splitlines()]  # every line is an entry
    assert entries[0]["seq"] == 0 and entries[-1]["seq"] == len(entries) - 1
    assert any(entry["type"] == "hostcall" and entry["name"] == "proxy_log" for entry in entries)
    assert captured.err.startswith("plugins (request order):\n  quota:")  # the summary, out of the way


def chrome_trace(tmp_path: Path, scenario: Path, *options: str) -> list[dict[str, Any]]:
    path = tmp_path / "trace.json"
    assert main(["proxy", str(scenario), "--trace", str(path), "--trace-format", "chrome", *options]) == 0
    document = json.loads(path.read_text())
    assert set(document) == {"traceEvents", "otherData"}
    return document["traceEvents"]


def check_trace_event_format(events: list[dict[str, Any]]) -> None:
    """The rules of the Trace Event Format a viewer relies on."""
    required = {"B": {"name", "ph", "ts", "pid", "tid"}, "E": {"ph", "ts", "pid", "tid"},
                "i": {"name", "ph", "ts", "pid", "tid", "s"}, "M": {"name", "ph", "pid", "tid", "args"},
                "s": {"name", "ph", "ts", "pid", "tid", "id"}, "f": {"name", "ph", "ts", "pid", "tid", "id", "bp"}}
    open_slices: dict[tuple[int, int], list[str]] = {}
    last: dict[tuple[int, int], float] = {}
    flows: dict[int, list[str]] = {}
    for event in events:
        phase = event["ph"]
        assert phase in required and required[phase] <= set(event), event
        track = (event["pid"], event["tid"])
        if phase == "M":
            continue
        assert event["ts"] >= last.get(track, 0), f"time goes back on {track}: {event}"
        last[track] = event["ts"]
        if phase == "B":
            open_slices.setdefault(track, []).append(event["name"])
        elif phase == "E":
            assert open_slices.get(track), f"an end without a begin: {event}"
            open_slices[track].pop()
        elif phase in "sf":
            assert open_slices.get(track), f"a flow outside a slice: {event}"
            flows.setdefault(event["id"], []).append(phase)
    assert all(not stack for stack in open_slices.values()), open_slices
    # an arrow starts at its callout and ends, at most once, where the answer is delivered (a callout
    # never answered has its start only)
    assert all(phases in (["s"], ["s", "f"]) for phases in flows.values()), flows


def test_chrome_timeline_of_a_proxy_run(tmp_path: Path) -> None:
    events = chrome_trace(tmp_path, GATEWAY)
    check_trace_event_format(events)
    names = {(event["pid"], event["args"]["name"]) for event in events if event["name"] == "thread_name"}
    plugins = {"deny_admin", "header_rewrite", "auth_call", "metrics_properties", "body_rewrite"}
    assert {name for pid, name in names if pid == 1} == plugins  # a track per plugin
    assert {name for pid, name in names if pid == 2} == {"allowed", "admin", "denied", "auth-down"}  # and stream
    callbacks = [event for event in events if event["ph"] == "B" and event["cat"] == "callback"]
    headers = next(event for event in callbacks if event["name"] == "proxy_on_request_headers")
    assert headers["args"]["args"] == {"context_id": 2, "num_headers": 6, "end_of_stream": 0}
    host_calls = [event for event in events if event["ph"] == "B" and event["cat"] == "host"]
    assert any(event["name"] == "proxy_http_call" and event["args"]["args"]["upstream"] == "auth"
               for event in host_calls)
    instants = {event["name"] for event in events if event["ph"] == "i"}
    assert "local reply 403 by deny_admin" in instants
    assert any(name.startswith("log: ") for name in instants)
    flows = [event for event in events if event["ph"] in "sf"]
    assert len(flows) == 6  # three HTTP calls, each from its call to its answer
    answer = next(event for event in flows if event["ph"] == "f")
    assert answer["bp"] == "e"


def test_chrome_timeline_with_wasm_calls(tmp_path: Path) -> None:
    events = chrome_trace(tmp_path, QUOTA, "--trace-instructions", "quota")
    check_trace_event_format(events)
    wasm = [event["name"] for event in events if event["ph"] == "B" and event["cat"] == "wasm"]
    assert "find_client" in wasm and "host proxy_get_header_map_value" in wasm


def test_the_same_run_gives_the_same_timeline(tmp_path: Path) -> None:
    first = (tmp_path / "a.json", tmp_path / "b.json")
    for path in first:
        assert main(["proxy", str(GATEWAY), "--trace", str(path), "--trace-format", "chrome"]) == 0
    assert first[0].read_bytes() == first[1].read_bytes()


def test_profile_per_plugin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "quota.profile"
    assert main(["proxy", str(QUOTA), "--profile", str(report)]) == 0
    capsys.readouterr()
    text = report.read_text()
    assert text.startswith("profile of quota.yaml: ")
    assert "\nplugin quota: " in text and "\nplugin rewrite: " in text
    assert "/glasswasm/tests/debug/programs/quota.c:66  client->requests = client->requests + 1;" in text
    folded = (tmp_path / "quota.folded").read_text().splitlines()
    assert "quota;proxy_on_request_headers;find_client " in "\n".join(folded)
    svg = (tmp_path / "quota.svg").read_text()
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    # exact: the profile counts what an instruction trace of the same plugin shows, instruction for instruction
    entries = trace_of(tmp_path, QUOTA, "--trace-instructions", "quota")
    traced = sum(1 for entry in entries if entry["type"] == "instr")
    counted = sum(int(line.rsplit(" ", 1)[1]) for line in folded if line.startswith("quota;"))
    assert counted == traced


def test_profile_and_instruction_traces_do_not_mix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", str(QUOTA), "--profile", str(tmp_path / "p.txt"), "--trace", str(tmp_path / "t"),
                 "--trace-instructions", "quota"]) == 1
    assert "--profile and --trace-instructions cannot be used together" in capsys.readouterr().err


@pytest.mark.parametrize("scenario", sorted((GATEWAY.parent).glob("*.yaml")), ids=lambda path: path.stem)
def test_every_scenario_gives_a_well_formed_timeline_and_page(tmp_path: Path, scenario: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    timeline, page = tmp_path / "trace.json", tmp_path / "report.html"
    assert main(["proxy", str(scenario), "--allow-failures", "--trace", str(timeline), "--trace-format", "chrome",
                 "--html", str(page)]) == 0
    check_trace_event_format(json.loads(timeline.read_text())["traceEvents"])
    assert page.read_text().rstrip().endswith("</body></html>")
