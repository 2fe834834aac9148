"""``glasswasm debug``: a gdb-like debugger on the command line.

Commands come from the terminal, or from standard input when it is not one
(each command is then echoed after the prompt, so a piped session reads like
a transcript).  The call debugged is ``--invoke NAME``, a WASI command's
``_start``, or else the module's start function.  See interp/debug/commands.py
for the commands.
"""

from __future__ import annotations

import argparse
import sys

from interp.cli.program import Program, add_program_arguments, exit_status
from interp.debug.commands import CommandInterpreter, QuitDebugger
from interp.debug.session import DebugSession
from interp.errors import UsageError
from interp.wasi import ProcessExit

PROMPT = "(glasswasm) "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_arguments(parser, engine=False)


def run(args: argparse.Namespace) -> int:
    program = Program(args, engine="python")
    start = program.compiled.module.start
    debug_start = not args.invoke and start is not None
    try:
        instance = program.instantiate(run_start=not debug_start)
        if debug_start:
            func, values = instance.funcs[start], []
        else:
            entry = program.entry(instance)
            if entry is None:
                raise UsageError("nothing to debug: give --invoke NAME (the module has no start function)")
            func, values = entry
    except ProcessExit as exit:
        return exit_status(exit)
    session = DebugSession(program.store, func, values, source_map=program.source_map())
    interpreter = CommandInterpreter(session, sys.stdout)
    interactive = sys.stdin.isatty()
    interpreter.show_location()
    try:
        while True:
            try:
                line = input(PROMPT) if interactive else sys.stdin.readline()
            except EOFError:
                break
            if not interactive:
                if not line:
                    break
                line = line.rstrip("\n")
                print(f"{PROMPT}{line}")
            try:
                interpreter.execute(line)
            except KeyboardInterrupt:
                print("interrupted")
                interpreter.show_location()
            sys.stdout.flush()
    except QuitDebugger:
        pass
    finally:
        session.close()
        program.flush()
    return 0
