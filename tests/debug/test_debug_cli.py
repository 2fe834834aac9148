"""``glasswasm debug`` driven through standard input, as a script would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"
REPOSITORY = Path(__file__).resolve().parents[2]

FIB = """(module
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))"""


def debug(commands: list[str], *arguments: str) -> list[str]:
    completed = subprocess.run([sys.executable, "-m", "interp", "debug", *arguments],
                               input="".join(line + "\n" for line in commands), capture_output=True, text=True,
                               cwd=REPOSITORY, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return completed.stdout.splitlines()


def test_a_scripted_session(tmp_path: Path) -> None:
    module = tmp_path / "fib.wat"
    module.write_text(FIB)
    output = debug(["break fib", "continue", "bt", "locals", "stepi 3", "stack", "reverse-step 2", "stack",
                    "info breakpoints", "delete", "finish", "continue", "quit"],
                   "--invoke", "fib", str(module), "3")
    assert output == [
        "fib @ 0x0022: local.get $n                 []",
        "(glasswasm) break fib",
        "breakpoint 1: fib",
        "(glasswasm) continue",
        "[breakpoint 1 (fib)] at step 8",
        "fib @ 0x0022: local.get $n                 []",
        "(glasswasm) bt",
        "#0  fib @ 0x0022",
        "#1  fib @ 0x0031",
        "(glasswasm) locals",
        "n = i32:2",
        "(glasswasm) stepi 3",
        "fib @ 0x0027: if (result i32)              [i32:0]",
        "(glasswasm) stack",
        "[0] i32:0",
        "(glasswasm) reverse-step 2",
        "fib @ 0x0024: i32.const 2                  [i32:2]",
        "(glasswasm) stack",
        "[0] i32:2",
        "(glasswasm) info breakpoints",
        "1  breakpoint  fib  (hit 1 times)",
        "stop on trap: yes",
        "(glasswasm) delete",
        "deleted all breakpoints and watchpoints",
        "(glasswasm) finish",
        "fib @ 0x0033: local.get $n                 [i32:1]",
        "(glasswasm) continue",
        "[finished] at step 51",  # every instruction of fib(3), as fuel counts them
        "finished: fib returned i32:2",
        "(glasswasm) quit",
    ]


def test_a_source_level_session_on_a_c_program_built_with_g() -> None:
    output = debug(["break collatz_step.h:5", "continue", "list", "next", "memory 0x10000 4 i32", "continue",
                    "bt", "quit"],
                   "--invoke", "divide", str(PROGRAMS / "collatz.wasm"), "7", "0")
    assert output[0].startswith("divide @ ")
    assert output[1].endswith("traps.c:9: int divide(int total, int parts) {")
    assert "error: no code for collatz_step.h:5" not in output  # a breakpoint in code never reached is fine
    assert "[trap: integer divide by zero] at step 22" in output
    assert any(line.endswith("traps.c:10:23: int share = total / parts;") for line in output)
    assert output[output.index("(glasswasm) bt") + 1].endswith("(/glasswasm/tests/debug/programs/traps.c:10:23)")


def test_source_listing_and_line_stepping() -> None:
    output = debug(["break collatz_step", "continue", "list", "next", "next", "quit"],
                   "--invoke", "collatz_length", str(PROGRAMS / "collatz.wasm"), "6")
    assert output[3] == "breakpoint 1: collatz_step at /glasswasm/tests/debug/programs/./collatz_step.h:5:9"
    listing = output[output.index("(glasswasm) list") + 1:output.index("(glasswasm) next")]
    assert "       4  static int collatz_step(int n) {" in listing  # the prologue: a breakpoint stops past it
    assert "=>     5      if (n % 2 == 0)" in listing
    steps = output[output.index("(glasswasm) next"):]
    assert steps[2].endswith("collatz_step.h:6:16: return n / 2;")
    assert steps[5].endswith("collatz_step.h:8:1: }")


def test_bad_commands_are_reported_and_the_session_goes_on(tmp_path: Path) -> None:
    module = tmp_path / "fib.wat"
    module.write_text(FIB)
    output = debug(["frobnicate", "break nothing", "memory 0x10", "stepi 0", "x", "stepi"],
                   "--invoke", "fib", str(module), "1")
    assert output[1:] == [
        "(glasswasm) frobnicate", "unknown command 'frobnicate' (try help)",
        "(glasswasm) break nothing", "error: no function 'nothing'",
        "(glasswasm) memory 0x10", "error: the module has no memory",
        "(glasswasm) stepi 0", "error: the count must be at least 1",
        "(glasswasm) x", "error: memory ADDR [LEN] | memory ADDR COUNT TYPE",
        "(glasswasm) stepi", "fib @ 0x0024: i32.const 2                  [i32:1]",
    ]
