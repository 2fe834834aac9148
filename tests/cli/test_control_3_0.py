"""Tail calls and exceptions from the command line: an uncaught exception is
one line and a backtrace, exnref results print, ``trace`` says where an
exception is thrown and caught and which frame a tail call replaces,
``debug`` stops where one is thrown (``catch throw``), ``inspect`` lists
tags."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from interp.cli.main import main

ROOT = Path(__file__).resolve().parents[2]

EXCEPTIONS = """(module
  (tag $oops (export "oops") (param i32 f64))
  (func $inner (param i32) (throw $oops (local.get 0) (f64.const 2.5)))
  (func (export "uncaught") (param i32) (call $inner (local.get 0)))
  (func (export "caught") (param i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $inner (local.get 0)))
      (ref.null exn))))
"""

TAIL_CALLS = """(module
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call $even (i32.sub (local.get 0) (i32.const 1)))))))
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def exceptions(tmp_path: Path) -> Path:
    path = tmp_path / "exceptions.wat"
    path.write_text(EXCEPTIONS)
    return path


@pytest.fixture
def tail_calls(tmp_path: Path) -> Path:
    path = tmp_path / "tail_calls.wat"
    path.write_text(TAIL_CALLS)
    return path


@pytest.mark.parametrize("engine", ["python", "cython"])
def test_an_uncaught_exception_is_one_line_and_a_backtrace(capsys, exceptions: Path, engine: str) -> None:
    status, out, err = run_cli(capsys, "run", "--engine", engine, "--invoke", "uncaught", exceptions, "--", "-3")
    assert (status, out) == (1, "")
    assert err.splitlines() == ["uncaught exception: tag $oops (i32:-3, f64:2.5)", "  0: inner @ 0x52",
                                "  1: uncaught @ 0x59"]


def test_an_exnref_result_says_what_was_caught(capsys, exceptions: Path) -> None:
    assert run_cli(capsys, "run", "--invoke", "caught", exceptions, "4") == (0, "exn tag $oops (i32:4, f64:2.5)\n", "")


def test_the_trace_shows_where_an_exception_goes(capsys, exceptions: Path) -> None:
    status, out, _ = run_cli(capsys, "trace", "--trace-format", "jsonl", "--invoke", "caught", exceptions, "4")
    events = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    exceptional = [(event["event"], event["func"], event["depth"]) for event in events
                   if event["event"] in ("throw", "unwind", "catch")]
    assert exceptional == [("throw", "inner", 1), ("unwind", "inner", 1), ("catch", "caught", 0)]
    catch = next(event for event in events if event["event"] == "catch")
    assert catch["exception"] == "tag $oops (i32:4, f64:2.5)" and catch["offset"] == 0x6d
    _, tree, _ = run_cli(capsys, "trace", "--trace-format", "calls", "--invoke", "caught", exceptions, "4")
    assert tree.splitlines() == ["caught(i32:4) {", "  inner(i32:4) ! tag $oops (i32:4, f64:2.5)",
                                 "} = exnref:exn tag $oops (i32:4, f64:2.5)"]


def test_the_trace_shows_the_frames_tail_calls_replace(capsys, tail_calls: Path) -> None:
    status, out, _ = run_cli(capsys, "trace", "--trace-format", "calls", "--invoke", "even", tail_calls, "3")
    assert status == 0
    assert out.splitlines() == ["even(i32:3) -> odd", "odd(i32:2) -> even", "even(i32:1) -> odd", "odd(i32:0) = i32:0"]
    _, text, _ = run_cli(capsys, "trace", "--invoke", "even", tail_calls, "1")
    assert "return_call odd(i32:0)  (replaces even)" in text.splitlines()


def test_the_debugger_stops_where_an_exception_is_thrown(exceptions: Path) -> None:
    commands = ["catch throw", "continue", "bt", "stepi", "info breakpoints", "quit"]
    completed = subprocess.run([sys.executable, "-m", "interp", "debug", "--invoke", "caught", str(exceptions), "7"],
                               input="".join(line + "\n" for line in commands), capture_output=True, text=True,
                               cwd=ROOT, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        "caught @ 0x005e: block (result exnref)        []",
        "(glasswasm) catch throw",
        "catchpoint 1: throw",
        "(glasswasm) continue",
        "[catchpoint 1 (throw): tag $oops (i32:7, f64:2.5)] at step 6",
        "inner @ 0x0052: throw $oops                  [i32:7 f64:2.5]",
        "(glasswasm) bt",
        "#0  inner @ 0x0052",
        "#1  caught @ 0x0067",
        "(glasswasm) stepi",
        "caught @ 0x006d: end                          [exnref:exn tag $oops (i32:7, f64:2.5)]",
        "(glasswasm) info breakpoints",
        "1  catchpoint  throw  (hit 1 times)",
        "stop on trap: yes",
        "(glasswasm) quit",
    ]


def test_inspect_lists_tags(capsys, exceptions: Path) -> None:
    status, out, _ = run_cli(capsys, "inspect", exceptions)
    assert status == 0
    lines = out.splitlines()
    assert "  tag        start 0x00000021  size 3       1 tag" in lines
    assert lines[lines.index("tags:") + 1] == "  0 $oops: tag [i32 f64] -> []"
    assert '  tag "oops": tag 0 $oops, [i32 f64] -> []' in lines
