"""``glasswasm debug`` driven through standard input, as a script would."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.debug.modules import FIB, PROGRAMS, REPOSITORY


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
        "(glasswasm) x", "error: memory [@MEM] ADDR [LEN] | memory [@MEM] ADDR COUNT TYPE",
        "(glasswasm) stepi", "fib @ 0x0024: i32.const 2                  [i32:1]",
    ]


def test_source_level_variables_print_frames_and_displays() -> None:
    output = debug(["break area", "continue", "info args", "up", "info locals", "print box.corner->x * 10",
                    "print/x here", "print {int} &counter", "ptype box", "down", "display a->x + b->y",
                    "next", "", "info display", "undisplay 1", "info frame", "quit"],
                   "--invoke", "walk", str(PROGRAMS / "variables.wasm"), "3")
    text = "\n".join(output)
    assert "breakpoint 1: area at /glasswasm/tests/debug/programs/variables.c:29:17" in output
    args = output[output.index("(glasswasm) info args") + 1:output.index("(glasswasm) up")]
    assert args == ["a = 0x448 (struct point *)", "b = 0x440 (struct point *)"]
    locals_ = output[output.index("(glasswasm) info locals") + 1:output.index("(glasswasm) print box.corner->x * 10")]
    assert locals_ == [
        "here = {x = 3, y = -3} (struct point)", "cursor = 0x10440 (struct point *)", "colour = GREEN (enum colour)",
        "total = 4.0 (double)", "letter = 119 'w' (char)", "big = 1099511627776 (unsigned long long)",
        "box = {name = 0x400 \"box\", origin = {x = 1, y = 1}, sides = 4 '\\004', scale = 1.5, corner = 0x438} "
        "(struct shape)"]
    assert "box.corner->x * 10 = 40 (int)" in output and "here = {x = 0x3, y = 0xfffffffd} (struct point)" in output
    assert "{int} &counter = 6 (int)" in output
    assert "type = struct shape {\n    const char *name;\n    struct point origin;" in text
    assert output.count("1: a->x + b->y = 4 (int)") == 3  # when set, and after each of the two steps
    assert "1: a->x + b->y" in output[output.index("(glasswasm) info display") + 1]
    frame = output[output.index("(glasswasm) info frame") + 1:]
    assert frame[0].startswith("frame #0: area @ ") and "called by frame #1: walk" in frame[2]
    assert any(line.startswith("  frame base 0x") for line in frame)


def test_conditional_breakpoints_tbreak_until_enter_and_run() -> None:
    output = debug(["break variables.c:45 if step == 1", "tbreak area", "info breakpoints", "continue",
                    "print step", "until", "", "continue", "print counter", "run", "continue", "print step",
                    "condition 1", "continue", "print step", "quit"],
                   "--invoke", "walk", str(PROGRAMS / "variables.wasm"), "3")
    assert output[3] == "breakpoint 1: variables.c:45 if step == 1"
    assert output[5] == "temporary breakpoint 2: area at /glasswasm/tests/debug/programs/variables.c:29:17"
    assert output[7:10] == ["1  breakpoint  variables.c:45  if step == 1  (hit 0 times)",
                            "2  tbreak  area at /glasswasm/tests/debug/programs/variables.c:29:17  (hit 0 times)",
                            "stop on trap: yes"]
    assert output[11] == "[breakpoint 1 (variables.c:45)] at step 253" and output[15] == "step = 1 (int)"
    assert output[18].endswith("variables.c:46:19: counter = counter + 1;")  # until: the next line
    assert output[19] == "(glasswasm) "  # Enter: until again, which leaves the loop
    assert output[21].endswith("variables.c:48:17: return here.x + area(&origin, &corners[2]) + (int)total + "
                               "colour + letter + (int)(big >> 40) + box.sides;")
    assert output[23].startswith("[temporary breakpoint 2 (area at ")
    assert output[27] == "counter = 6 (int)"
    assert output[28:30] == ["(glasswasm) run", "restarted from the beginning"]
    assert output[33] == "[breakpoint 1 (variables.c:45)] at step 253"  # the condition came along
    assert output[37] == "step = 1 (int)" and output[39] == "breakpoint 1 stops unconditionally"
    assert output[41] == "[breakpoint 1 (variables.c:45)] at step 348" and output[45] == "step = 2 (int)"


def test_help_lists_the_commands() -> None:
    completed = subprocess.run([sys.executable, "-m", "interp", "debug", "--help"], capture_output=True, text=True,
                               cwd=REPOSITORY, timeout=120)
    assert completed.returncode == 0
    for usage in ("break [LOCATION] [if COND]", "tbreak LOCATION", "until [LOCATION]", "print[/FMT] EXPR",
                  "display[/FMT] [EXPR]", "frame [N]", "run", "reverse-continue"):
        assert usage in completed.stdout
    output = debug(["help", "help print", "help nothing", "quit"], "--invoke", "divide", str(PROGRAMS / "collatz.wasm"),
                   "1", "1")
    assert "An empty line repeats the last stepping or running command." in output
    assert any(line.strip().startswith("print[/FMT] EXPR") and line.endswith("(p, inspect)") for line in output)
    assert "error: no command 'nothing'" in output


def test_line_editing_and_history_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal the console reads with readline: the up arrow brings
    back the last command, which an escape sequence would not run as one."""
    pty = pytest.importorskip("pty")
    module = tmp_path / "fib.wat"
    module.write_text(FIB)
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the debugger on the terminal
        os.execv(sys.executable, [sys.executable, "-m", "interp", "debug", "--invoke", "fib", str(module), "3"])
    transcript = b""

    def read_until(marker: bytes) -> None:
        nonlocal transcript
        deadline = time.monotonic() + 60
        while marker not in transcript and time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 1)
            if ready:
                try:
                    transcript += os.read(terminal, 4096)
                except OSError:
                    break

    try:
        read_until(b"(glasswasm) ")
        os.write(terminal, b"stepi\r")
        read_until(b"i32.const 2")
        os.write(terminal, b"\x1b[A\r")  # the up arrow, then Enter: stepi again
        read_until(b"i32.lt_u")
        os.write(terminal, b"\r")  # an empty line: stepi once more
        read_until(b"if (result i32)")
        os.write(terminal, b"quit\r")
        read_until(b"quit")
    finally:
        os.close(terminal)
        os.waitpid(pid, 0)
    text = transcript.decode(errors="replace")
    assert "unknown command" not in text
    assert "i32.lt_u" in text and "if (result i32)" in text


def test_memory_views_and_watchpoints_take_a_memory(tmp_path: Path) -> None:
    """``x @MEM ...`` and ``watch @MEM ...``: a memory by index or $name
    (multi-memory); memory 0 without one."""
    module = tmp_path / "memories.wat"
    module.write_text("""(module (memory $a 1) (memory $b i64 1)
      (func (export "f") (i64.store $b (i64.const 8) (i64.const 0x1122)) (i32.store8 (i32.const 1) (i32.const 7))))""")
    output = debug(["watch @$b 8 2", "continue", "x @1 8 1 u16", "x 0 4", "x @2 0", "quit"],
                   "--invoke", "f", str(module))
    assert output[1:] == [
        "(glasswasm) watch @$b 8 2",
        "watchpoint 1: memory 1 0x8..+2",
        "(glasswasm) continue",
        "[watchpoint 1 (memory 1 0x8..+2): 00 00 -> 22 11] at step 3",
        "f @ 0x002e: i32.const 1                  []",
        "(glasswasm) x @1 8 1 u16",
        "0x00000008: 4386",
        "(glasswasm) x 0 4",
        "0x00000000: 00 00 00 00                                      ....",
        "(glasswasm) x @2 0",
        "error: no memory 2 (the module has 2)",
        "(glasswasm) quit",
    ]
