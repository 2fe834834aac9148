"""The command line: outputs, exit statuses, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from interp.cli.main import main

FIB = """(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $divide (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (call $divide (local.get 0) (local.get 1)))
  (func (export "floats") (param f32 f64) (result f32 f64 i64) (local.get 0) (local.get 1) (i64.const -1)))"""


@pytest.fixture
def fib_wat(tmp_path: Path) -> Path:
    path = tmp_path / "fib.wat"
    path.write_text(FIB)
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_run_invoke_prints_each_result_on_its_own_line(capsys, fib_wat: Path) -> None:
    assert run_cli(capsys, "run", "--invoke", "fib", fib_wat, "10") == (0, "55\n", "")
    status, out, _ = run_cli(capsys, "run", "--invoke", "floats", fib_wat, "--", "0x1p-1", "-inf")
    assert (status, out) == (0, "0.5\n-inf\n-1\n")


def test_trap_prints_message_and_backtrace(capsys, fib_wat: Path) -> None:
    status, out, err = run_cli(capsys, "run", "--invoke", "div", fib_wat, "1", "0")
    assert status == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == "trap: integer divide by zero"
    assert lines[1].startswith("  0: divide @ 0x") and lines[2].startswith("  1: div @ 0x")


def test_fuel_limit(capsys, fib_wat: Path) -> None:
    status, _, err = run_cli(capsys, "run", "--fuel", "100", "--invoke", "fib", fib_wat, "20")
    assert status == 1 and err.startswith("fuel: fuel exhausted\n")


def test_bad_arguments_are_one_line_errors(capsys, fib_wat: Path, tmp_path: Path) -> None:
    cases = [
        (["run", "--invoke", "fib", fib_wat], "error: fib takes 1 arguments [i32] -> [i32], 0 given"),
        (["run", "--invoke", "fib", fib_wat, "x"], "error: argument 1: 'x' is not an i32 literal"),
        (["run", "--invoke", "fib", fib_wat, "0x1_0000_0000"], "error: argument 1: '0x1_0000_0000' is out of range for i32"),
        (["run", "--invoke", "nope", fib_wat], "error: no exported function 'nope'"),
        (["run", fib_wat, "1"], "error: arguments given without --invoke NAME"),
        (["run", tmp_path / "missing.wasm"], "error: cannot read"),
    ]
    for args, expected in cases:
        status, out, err = run_cli(capsys, *args)
        assert status == 1, args
        assert err.startswith(expected), (args, err)
        assert err.count("\n") == 1, err


def test_validate(capsys, fib_wat: Path, tmp_path: Path) -> None:
    assert run_cli(capsys, "validate", fib_wat) == (0, f"{fib_wat}: valid\n", "")
    invalid = tmp_path / "invalid.wat"
    invalid.write_text("(module (func (result i32) (i64.const 1)))")
    status, _, err = run_cli(capsys, "validate", invalid)
    assert status == 1 and err.splitlines() == [
        f"{invalid}:1:41: error: type mismatch in end: expected [i32] at the end of the function, got [i64]",
        "  (module (func (result i32) (i64.const 1)))",
        "                                          ^",
        "  in function 0, at offset 0x1a",
    ]
    malformed = tmp_path / "malformed.wasm"
    malformed.write_bytes(b"\0asm\x01\0\0\0\x01")
    status, _, err = run_cli(capsys, "validate", malformed)
    assert status == 1 and err.startswith("malformed: ") and err.count("\n") == 1


def test_usage_errors_exit_with_status_1(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_spec_command_counts_and_exit_status(capsys, tmp_path: Path) -> None:
    script = tmp_path / "mine.wast"
    script.write_text("""(module (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "one") (i32.const 1))
(assert_return (invoke "one") (i32.const 2))
(assert_trap (invoke "one") "unreachable")
(assert_invalid (module (func (result i32))) "type mismatch")""")
    status, out, _ = run_cli(capsys, "spec", script, "--json", tmp_path / "out.json")
    assert status == 1
    assert out.splitlines() == [
        f"{script}: 3 passed, 2 failed",
        "failed checks:",
        f"  {script}:3: assert_return: result 0: expected i32:0x2, got 0x1",
        f"  {script}:4: assert_trap: expected trap 'unreachable', but it succeeded",
        "3 passed, 2 failed",
    ]
    import json
    document = json.loads((tmp_path / "out.json").read_text())
    assert [c["passed"] for c in document["files"][0]["checks"]] == [True, True, False, False, True]


def test_runs_under_python_dash_o(fib_wat: Path) -> None:
    completed = subprocess.run([sys.executable, "-O", "-m", "interp", "run", "--invoke", "fib", str(fib_wat), "12"],
                               capture_output=True, text=True, timeout=120)
    assert (completed.returncode, completed.stdout) == (0, "144\n")
