"""The debugger's command loop: lines from a terminal or a pipe, to any
command interpreter.

On a terminal, lines are read with readline when Python has it (line
editing, the up arrow for history, tab completion of command names) and with
plain ``input`` otherwise.  From a pipe (a script), each line is echoed after
the prompt, so the output reads like a transcript.  Either way an empty line
repeats the last command that repeats (stepping, continuing), as in gdb, and
end of input quits.
"""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

try:
    import readline
except ImportError:  # not on every platform; plain input() then
    readline = None  # type: ignore[assignment]

PROMPT = "(glasswasm) "


class Interpreter(Protocol):
    def execute(self, line: str) -> None: ...

    def repeats(self, line: str) -> bool: ...

    def command_names(self) -> list[str]: ...

    def show_location(self) -> None: ...


def run_console(interpreter: Interpreter, quit_exception: type[BaseException], source: TextIO | None = None,
                out: TextIO | None = None, prompt: str = PROMPT) -> None:
    """Read commands until ``quit`` (``quit_exception``) or end of input."""
    source = source or sys.stdin
    out = out or sys.stdout
    interactive = source.isatty()
    if interactive and readline is not None:
        _complete_with(interpreter.command_names())
    last = ""
    try:
        while True:
            try:
                line = input(prompt) if interactive else source.readline()
            except EOFError:
                break
            if not interactive:
                if not line:
                    break
                line = line.rstrip("\n")
                out.write(f"{prompt}{line}\n")
            if line.strip():
                last = line if interpreter.repeats(line) else ""
            elif last:
                line = last
            try:
                interpreter.execute(line)
            except KeyboardInterrupt:
                out.write("interrupted\n")
                interpreter.show_location()
            out.flush()
    except quit_exception:
        pass


def _complete_with(words: list[str]) -> None:
    """Tab completes command names at the start of the line."""

    def complete(text: str, state: int) -> str | None:
        if readline.get_line_buffer()[:readline.get_begidx()].strip():
            return None
        matches = [word + " " for word in words if word.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" \t")
    readline.parse_and_bind("tab: complete")
