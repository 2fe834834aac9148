"""The Chrome Trace Event format: the writer keeps the format's rules, and
``glasswasm trace --trace-format chrome`` writes files that follow them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from interp.cli.main import main
from interp.debug.chrome_trace import ChromeTraceWriter, Track
from interp.debug.trace_formats import ChromeCallTrace
from interp.debug.tracing import StepLimitReached, TracingObserver
from interp.errors import Trap, UsageError
from interp.loader import module_from_bytes
from interp.runtime.function import HostFunction
from interp.exec.store import EngineConfig, Store
from interp.syntax.types import I32, FuncType

from tests.debug.modules import FIB, REPOSITORY

HELLO_WASI = REPOSITORY / "tests" / "wasi" / "programs" / "hello_wasi.wasm"

CALLBACK = """(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (func $double (export "double") (param i32) (result i32)
    (i32.add (local.get 0) (local.get 0)))
  (func $run (export "run") (param i32) (result i32)
    (i32.div_u (call $twice (local.get 0)) (i32.sub (local.get 0) (i32.const 3)))))"""

PHASES_WITH_TRACKS = {"B", "E", "X", "i", "I", "s", "t", "f", "C"}


def check_chrome_trace(text: str) -> list[dict]:
    """The rules of the Trace Event format a viewer relies on; returns the events."""
    document = json.loads(text)
    assert isinstance(document, dict) and isinstance(document["traceEvents"], list)
    events = document["traceEvents"]
    open_slices: dict[tuple, list[str]] = defaultdict(list)
    last_ts: dict[tuple, float] = {}
    flows: dict[int, list[str]] = defaultdict(list)
    for event in events:
        assert isinstance(event.get("name"), str) and event.get("ph"), event
        assert isinstance(event.get("pid"), int) and isinstance(event.get("tid"), int), event
        if event["ph"] == "M":
            assert event["name"] in {"process_name", "thread_name", "process_sort_index", "thread_sort_index"}
            assert isinstance(event["args"], dict)
            continue
        assert event["ph"] in PHASES_WITH_TRACKS, event
        assert isinstance(event["ts"], (int, float)) and event["ts"] >= 0, event
        track = (event["pid"], event["tid"])
        assert event["ts"] >= last_ts.get(track, 0), f"time goes back on {track}: {event}"
        last_ts[track] = event["ts"]
        if event["ph"] == "B":
            open_slices[track].append(event["name"])
        elif event["ph"] == "E":
            assert open_slices[track], f"end without begin: {event}"
            assert open_slices[track].pop() == event["name"]
        elif event["ph"] == "i":
            assert event["s"] in {"t", "p", "g"}
        elif event["ph"] in ("s", "t", "f"):
            assert isinstance(event["id"], int) and open_slices[track], event
            flows[event["id"]].append(event["ph"])
    assert not any(open_slices.values()), f"slices left open: {dict(open_slices)}"
    for phases in flows.values():
        assert phases[0] == "s" and phases[-1] == "f"
    return events


def chrome_trace_of(text: str, export: str, *args: int, imports=None, **options) -> tuple[str, BaseException | None]:
    out = io.StringIO()
    tracer = ChromeCallTrace(out, "test")
    store = Store(EngineConfig(engine="python"))
    store.observe(TracingObserver(tracer, **options))
    instance = store.instantiate(module_from_bytes(text.encode()), imports)
    error = None
    try:
        store.invoke(instance.exports[export], *args)
    except (Trap, StepLimitReached) as raised:
        error = raised
    finally:
        tracer.finish()
    return out.getvalue(), error


def slices(events: list[dict]) -> list[tuple]:
    return [(e["ph"], e["name"], e["ts"]) for e in events if e["ph"] in "BE"]


def test_calls_nest_on_the_step_count_timeline() -> None:
    text, _ = chrome_trace_of(FIB, "fib", 3)
    events = check_chrome_trace(text)
    assert slices(events) == [
        ("B", "fib", 0), ("B", "fib", 7), ("B", "fib", 15), ("E", "fib", 23), ("B", "fib", 26), ("E", "fib", 34),
        ("E", "fib", 37), ("B", "fib", 40), ("E", "fib", 48), ("E", "fib", 51),
    ]  # 51: every instruction of fib(3), as `glasswasm debug` counts them
    begins = [e for e in events if e["ph"] == "B"]
    assert begins[0]["args"] == {"args": ["i32:3"]} and begins[0]["cat"] == "wasm"
    assert [e["args"] for e in events if e["ph"] == "E"][-1] == {"results": ["i32:2"]}


def test_host_calls_enclose_the_guest_code_they_call_back_and_a_trap_closes_everything() -> None:
    def twice(caller, value: int) -> int:
        return caller.invoke("double", value)[0]

    imports = {"env": {"twice": HostFunction(FuncType((I32,), (I32,)), twice, takes_caller=True)}}
    text, error = chrome_trace_of(CALLBACK, "run", 3, imports=imports)
    assert isinstance(error, Trap)
    events = check_chrome_trace(text)
    assert [(phase, name) for phase, name, _ in slices(events)] == [
        ("B", "run"), ("B", "host twice"), ("B", "double"), ("E", "double"), ("E", "host twice"), ("E", "run")]
    (trap,) = [e for e in events if e["ph"] == "i"]
    assert trap["name"] == "trap: integer divide by zero" and trap["cat"] == "trap"
    assert trap["ts"] == slices(events)[-1][2]


def test_a_step_limit_and_a_function_filter_still_give_valid_files() -> None:
    text, error = chrome_trace_of(FIB, "fib", 10, max_steps=100)
    assert isinstance(error, StepLimitReached)
    events = check_chrome_trace(text)
    assert any(e["ph"] == "i" and e["name"] == "stopped after 100 instructions" for e in events)
    assert max(e.get("ts", 0) for e in events) == 100
    text, _ = chrome_trace_of(FIB, "fib", 3, functions=["nothing-matches"])
    assert slices(check_chrome_trace(text)) == []


def test_the_writer_refuses_what_would_break_the_file() -> None:
    out = io.StringIO()
    writer = ChromeTraceWriter(out, {"what": "test"})
    plugin, stream = Track(1, 1), Track(1, 2)
    writer.name_process(1, "proxy", sort_index=0)
    writer.name_thread(plugin, "auth", sort_index=1)
    writer.begin(plugin, "on_request_headers", 10, "callback", {"stream": "first"})
    writer.flow_start(plugin, 7, "http call", 12)
    with pytest.raises(UsageError, match="time goes back"):
        writer.begin(plugin, "late", 5)
    with pytest.raises(UsageError, match="no slice is open"):
        writer.end(stream, 20)
    with pytest.raises(UsageError, match="needs an open slice"):
        writer.flow_end(stream, 7, "http call", 30)
    writer.begin(stream, "request", 0)
    writer.instant(stream, "log: hello", 15, "log", scope="process")
    writer.flow_end(stream, 7, "http call", 30)
    writer.counter(Track(1, 3), "pending calls", 30, {"value": 1})
    with pytest.raises(UsageError, match="scope"):
        writer.instant(stream, "x", 31, scope="galaxy")
    writer.close(40)
    writer.close(50)  # once is enough
    events = check_chrome_trace(out.getvalue())
    assert [(e["ph"], e["name"], e["ts"]) for e in events if e["ph"] == "E"] == [
        ("E", "on_request_headers", 40), ("E", "request", 40)]
    assert json.loads(out.getvalue())["otherData"] == {"what": "test"}
    with pytest.raises(UsageError, match="closed"):
        writer.begin(plugin, "after", 60)


def test_trace_command_writes_chrome_traces_byte_identically(tmp_path: Path) -> None:
    module = tmp_path / "fib.wat"
    module.write_text(FIB)
    outputs = []
    for name in ("one.json", "two.json"):
        assert main(["trace", "--invoke", "fib", "--trace-format", "chrome", "-o", str(tmp_path / name),
                     str(module), "6"]) == 0
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    events = check_chrome_trace(outputs[0].decode())
    assert sum(e["ph"] == "B" for e in events) == 25  # fib(6) makes 25 calls
    assert [e["args"]["name"] for e in events if e["ph"] == "M"] == ["fib.wat", "calls"]


def test_the_guests_output_never_mixes_into_a_trace_on_standard_output() -> None:
    for trace_format in ("jsonl", "chrome"):
        completed = subprocess.run([sys.executable, "-m", "interp", "trace", "--trace-format", trace_format,
                                    str(HELLO_WASI), "one"], capture_output=True, text=True, cwd=REPOSITORY,
                                   timeout=300)
        assert completed.returncode == 0, completed.stderr
        if trace_format == "jsonl":
            events = [json.loads(line) for line in completed.stdout.splitlines()]
            assert {"call", "instr", "host_call", "return"} <= {event["event"] for event in events}
        else:
            events = check_chrome_trace(completed.stdout)
            assert any(event["name"] == "host wasi_snapshot_preview1.fd_write" for event in events)
        assert "argv[1]=one" in completed.stderr and "argv[1]=one" not in completed.stdout
