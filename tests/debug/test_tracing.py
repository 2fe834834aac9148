"""Tracing: exact traces of small programs, every kind of event, the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from interp.binary.decode import decode_module
from interp.binary.encode import encode_module
from interp.cli.main import main
from interp.debug.trace_formats import CallTreeTrace, JsonLinesTrace, TextTrace
from interp.debug.tracing import StepLimitReached, TracingObserver
from interp.errors import Trap
from interp.host.spectest import spectest_exports
from interp.exec.store import EngineConfig, Store
from interp.text.parser import parse_module

from tests.debug.modules import FIB

EFFECTS = """(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (memory 1)
  (global $counter (mut i32) (i32.const 0))
  (func $effects (export "effects") (param $x i32) (result i32)
    (i32.store (i32.const 8) (local.get $x))
    (global.set $counter (i32.load (i32.const 8)))
    (call $print (global.get $counter))
    (memory.fill (i32.const 16) (i32.const 255) (i32.const 4))
    (i32.div_u (i32.const 1) (local.get $x))))"""


def binary_of(text: str) -> bytes:
    return encode_module(parse_module(text))


def traced(text: str, export: str, *args: int, tracer_class=JsonLinesTrace, **options):
    out = io.StringIO()
    store = Store(EngineConfig(engine="python"))
    store.observe(TracingObserver(tracer_class(out), **options))
    module = decode_module(binary_of(text))
    instance = store.instantiate(module, {"spectest": spectest_exports()})
    error = None
    try:
        store.invoke(instance.exports[export], *args)
    except Trap as trap:
        error = trap
    return out.getvalue(), module, error


def test_jsonl_events_carry_offsets_that_match_the_binary() -> None:
    output, module, _ = traced(FIB, "fib", 2)
    events = [json.loads(line) for line in output.splitlines()]
    body = module.funcs[0].body
    instructions = [e for e in events if e["event"] == "instr"]
    assert instructions[0] == {"event": "instr", "step": 0, "func": "fib", "func_index": 0,
                               "offset": body[0].offset, "op": "local.get $n", "stack": [], "depth": 0}
    assert [e["step"] for e in instructions] == list(range(len(instructions)))
    assert instructions[2]["op"] == "i32.lt_u" and instructions[2]["stack"] == ["i32:2", "i32:2"]
    offsets = {i.offset for i in body}
    assert all(e["offset"] in offsets for e in instructions)
    calls = [(e["event"], e.get("args"), e.get("results"), e["depth"]) for e in events if e["event"] != "instr"]
    assert calls == [("call", ["i32:2"], None, 0), ("call", ["i32:1"], None, 1), ("return", None, ["i32:1"], 1),
                     ("call", ["i32:0"], None, 1), ("return", None, ["i32:0"], 1), ("return", None, ["i32:1"], 0)]
    assert len(instructions) == 15 + 2 * 7  # the outer call's instructions and both inner calls'


def test_text_trace_is_indented_by_depth() -> None:
    output, module, _ = traced(FIB, "fib", 1, tracer_class=TextTrace)
    first = module.funcs[0].body[0].offset
    assert output.splitlines() == [
        "call fib(i32:1)",
        f"{first:06x}: local.get $n                 []",
        f"{first + 2:06x}: i32.const 2                  [i32:1]",
        f"{first + 4:06x}: i32.lt_u                     [i32:1 i32:2]",
        f"{first + 5:06x}: if (result i32)              [i32:1]",
        f"{first + 7:06x}: local.get $n                 []",
        f"{first + 9:06x}: else                         [i32:1]",
        f"{first + 26:06x}: end                          [i32:1]",
        "return fib = i32:1",
    ]


def test_call_tree() -> None:
    output, _, _ = traced(FIB, "fib", 3, tracer_class=CallTreeTrace)
    assert output.splitlines() == [
        "fib(i32:3) {",
        "  fib(i32:2) {",
        "    fib(i32:1) = i32:1",
        "    fib(i32:0) = i32:0",
        "  } = i32:1",
        "  fib(i32:1) = i32:1",
        "} = i32:2",
    ]


def test_memory_global_host_and_trap_events() -> None:
    output, _, error = traced(EFFECTS, "effects", 0)
    events = [json.loads(line) for line in output.splitlines()]
    effects = [{k: v for k, v in e.items() if k != "depth"} for e in events if e["event"] not in ("instr", "call")]
    steps = {e["op"].split()[0]: e["step"] for e in events if e["event"] == "instr"}
    assert effects == [
        {"event": "memory_write", "step": steps["i32.store"], "address": 8, "size": 4, "value": "i32:0"},
        {"event": "memory_read", "step": steps["i32.load"], "address": 8, "size": 4, "value": "i32:0"},
        {"event": "global_write", "step": steps["global.set"], "index": 0, "name": "counter", "value": "i32:0"},
        {"event": "host_call", "step": steps["call"], "func": "print_i32", "args": ["i32:0"]},
        {"event": "host_return", "step": steps["call"] + 1, "func": "print_i32", "results": []},
        {"event": "memory_write", "step": steps["memory.fill"], "address": 16, "size": 4, "value": "byte 0xff"},
        {"event": "trap", "step": steps["i32.div_u"], "func": "effects", "kind": "trap",
         "message": "integer divide by zero", "backtrace": [entry.describe() for entry in error.backtrace]},
    ]


def test_function_filter_and_step_limit() -> None:
    output, _, _ = traced(FIB, "fib", 3, functions=["nothing-matches"])
    assert output == ""
    with pytest.raises(StepLimitReached):
        traced(FIB, "fib", 20, max_steps=50)


def test_trace_command(tmp_path: Path, capsys) -> None:
    module = tmp_path / "fib.wasm"
    module.write_bytes(binary_of(FIB))
    assert main(["trace", "--invoke", "fib", "--format", "calls", str(module), "2"]) == 0
    assert capsys.readouterr().out == "fib(i32:2) {\n  fib(i32:1) = i32:1\n  fib(i32:0) = i32:0\n} = i32:1\n"
    out = tmp_path / "trace.jsonl"
    assert main(["trace", "--invoke", "fib", "--format", "jsonl", "-o", str(out), "--max-steps", "5",
                 str(module), "10"]) == 0
    lines = out.read_text().splitlines()
    assert sum(json.loads(line)["event"] == "instr" for line in lines) == 5
    assert json.loads(lines[-1]) == {"event": "stopped", "step": 5, "steps": 5}
    assert capsys.readouterr().out == ""  # the trace went to the file; nothing finished to print


def test_proxy_trace_can_include_instructions(tmp_path: Path) -> None:
    scenario = Path(__file__).resolve().parents[1] / "abi" / "scenarios" / "panic_fail_open.yaml"
    trace = tmp_path / "trace.jsonl"
    assert main(["proxy", str(scenario), "--json", "--trace", str(trace), "--trace-instructions", "panic"]) == 0
    kinds = {json.loads(line)["type"] for line in trace.read_text().splitlines()}
    assert {"callback", "hostcall", "instr", "call", "return"} <= kinds


def test_bad_options_are_one_line_errors(tmp_path: Path, capsys) -> None:
    module = tmp_path / "fib.wasm"
    module.write_bytes(binary_of(FIB))
    scenario = Path(__file__).resolve().parents[1] / "abi" / "scenarios" / "gateway.yaml"
    cases = [
        (["trace", "--max-steps", "-1", "--invoke", "fib", str(module), "1"], "error: --max-steps must not be negative"),
        (["trace", "-o", str(tmp_path / "no" / "such" / "dir"), "--invoke", "fib", str(module), "1"],
         "error: cannot write"),
        (["proxy", str(scenario), "--trace-instructions", "auth_call"], "error: --trace-instructions needs --trace FILE"),
        (["debug", str(module)], f"error: nothing to run: {module} has no start function; call an export"),
    ]
    for args, message in cases:
        assert main(args) == 1, args
        err = capsys.readouterr().err
        assert err.startswith(message) and err.count("\n") == 1, (args, err)


MEMORIES = """(module
  (memory $a 1)
  (memory $b i64 1)
  (func (export "copy") (param $x i64) (result i64)
    (i64.store $b offset=8 (local.get $x) (i64.const 42))
    (memory.copy $a $b (i32.const 0) (i64.const 24) (i32.const 8))
    (i64.load $a (i32.const 0))))"""


def test_memory_events_name_the_memory_other_than_memory_0() -> None:
    """Multi-memory: a memory event says which memory (``memory`` in JSON,
    ``mem1[...]`` in text), except for memory 0, whose events are as before."""
    output, _, _ = traced(MEMORIES, "copy", 16)
    effects = [{k: v for k, v in json.loads(line).items() if k not in ("depth", "step")}
               for line in output.splitlines() if '"memory_' in line]
    assert effects == [
        {"event": "memory_write", "address": 24, "size": 8, "value": "i64:42", "memory": 1},
        {"event": "memory_read", "address": 24, "size": 8, "value": "8 bytes", "memory": 1},
        {"event": "memory_write", "address": 0, "size": 8, "value": "8 bytes"},
        {"event": "memory_read", "address": 0, "size": 8, "value": "i64:42"},
    ]
    text, _, _ = traced(MEMORIES, "copy", 16, tracer_class=TextTrace)
    assert [line.strip() for line in text.splitlines() if ";" in line] == [
        "; write mem1[0x18..+8] = i64:42", "; read  mem1[0x18..+8] = 8 bytes", "; write mem[0x0..+8] = 8 bytes",
        "; read  mem[0x0..+8] = i64:42"]
