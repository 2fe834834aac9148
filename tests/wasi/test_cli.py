"""``glasswasm run`` with WASI modules: commands, reactors, exit statuses,
arguments and environment, and one-line errors."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from interp.cli.main import main
from tests.wasi.conftest import PROGRAMS_FOLDER, WAT_FOLDER

HELLO = PROGRAMS_FOLDER / "hello_wasi.wasm"
COMMAND = WAT_FOLDER / "command.wat"
REACTOR = WAT_FOLDER / "reactor.wat"
FAULTS = WAT_FOLDER / "faults.wat"


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_command_gets_args_and_environment(capsys) -> None:
    status, out, err = run_cli(capsys, "run", "--env", "GREETING=hi there", "--env", "EMPTY=", HELLO,
                               "one", "--", "-x")
    assert (status, err) == (0, "to stderr\n")
    assert out == "\n".join([
        "argc=3", "argv[0]=hello_wasi.wasm", "argv[1]=one", "argv[2]=-x",
        "env GREETING=hi there", "env EMPTY=",
        "realtime_ns=1704067200000000000", "slept_ns=2501000",
        f"random={random.Random(0).randbytes(8).hex()}",
        "stdin=0:", "done"])


def test_runs_are_byte_identical(capsys) -> None:
    first = run_cli(capsys, "run", HELLO, "a")
    assert run_cli(capsys, "run", HELLO, "a") == first


def test_proc_exit_status_without_an_error_line(capsys) -> None:
    assert run_cli(capsys, "run", COMMAND) == (0, "hello from wat\n", "to stderr\n")
    assert run_cli(capsys, "run", COMMAND, "a", "b", "c") == (3, "hello from wat\n", "to stderr\n")
    assert run_cli(capsys, "run", HELLO, "--env", "EXIT_CODE=255")[0] == 255


def test_exit_codes_beyond_255_are_an_error(capsys) -> None:
    status, _, err = run_cli(capsys, "run", HELLO, "--env", "EXIT_CODE=256")
    assert status == 1
    assert err.endswith("error: process exited with status 256, which is not an exit status (0-255)\n")
    assert err.count("\n") == 2  # the program's own "to stderr" line, then the one error line


def test_reactor_is_initialized_before_invoke(capsys) -> None:
    assert run_cli(capsys, "run", "--invoke", "add", REACTOR, "2") == (0, "initialized\n42\n", "")
    assert run_cli(capsys, "run", "--invoke", "quit", REACTOR, "9") == (9, "initialized\n", "")


def test_invoke_checks_arguments_before_running_guest_code(capsys) -> None:
    status, out, err = run_cli(capsys, "run", "--invoke", "add", REACTOR)
    assert (status, out) == (1, "")
    assert err == "error: add takes 1 arguments [i32] -> [i32], 0 given\n"


def test_trap_in_a_command_keeps_its_output_and_reports_a_backtrace(capsys) -> None:
    status, out, err = run_cli(capsys, "run", FAULTS)
    assert (status, out) == (1, "about to trap")
    assert err.splitlines()[0] == "trap: unreachable"
    assert err.splitlines()[1].startswith("  0: crash @ 0x")


def test_fuel_bounds_a_command(capsys) -> None:
    status, _, err = run_cli(capsys, "run", "--fuel", "1000", "--invoke", "spin", FAULTS)
    assert status == 1 and err.startswith("fuel: fuel exhausted\n")
    status, _, err = run_cli(capsys, "run", "--fuel", "2000", HELLO)
    assert status == 1 and err.startswith("fuel: fuel exhausted\n")


def test_bad_env_option_is_one_line(capsys) -> None:
    for bad in ("NOVALUE", "=value"):
        status, out, err = run_cli(capsys, "run", COMMAND, "--env", bad)
        assert (status, out) == (1, "")
        assert err == f"error: --env expects NAME=VALUE, got {bad!r}\n"


def test_modules_without_wasi_are_unchanged(capsys, tmp_path: Path) -> None:
    module = tmp_path / "plain.wat"
    module.write_text('(module (func (export "_start") unreachable) (func (export "one") (result i32) i32.const 1))')
    status, out, err = run_cli(capsys, "run", module)  # _start is only a WASI convention
    assert (status, out) == (1, "")
    assert err == (f"error: nothing to run: {module} has no start function; call an export with --invoke NAME "
                   "(exported functions: _start [] -> [], one [] -> [i32])\n")
    status, _, err = run_cli(capsys, "run", module, "arg")
    assert status == 1 and err == "error: arguments given without --invoke NAME\n"
    assert run_cli(capsys, "run", "--invoke", "one", module) == (0, "1\n", "")


def test_real_process_exit_status_and_output_bytes() -> None:
    result = subprocess.run([sys.executable, "-m", "interp", "run", str(HELLO), "--env", "EXIT_CODE=7"],
                            capture_output=True, timeout=60)
    assert result.returncode == 7
    assert result.stdout.startswith(b"argc=1\nargv[0]=hello_wasi.wasm\nenv EXIT_CODE=7\n")
    assert result.stdout.endswith(b"\ndone")
    assert result.stderr == b"to stderr\n"


WASI_MEMORY64 = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") i64 1)
  (func (export "_start") (call $exit (i32.const 3))))"""


def test_a_module_with_a_64_bit_memory_cannot_use_wasi(capsys, tmp_path: Path) -> None:
    """Preview1 passes 32-bit pointers into memory 0: one line, before anything runs."""
    module = tmp_path / "wasi64.wat"
    module.write_text(WASI_MEMORY64)
    assert run_cli(capsys, "run", module) == (
        1, "", "unlinkable: WASI preview1 passes 32-bit pointers into memory 0, but this module's memory 0 is "
               "64-bit (memory64)\n")
