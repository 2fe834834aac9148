"""``glasswasm debug``: a gdb-like debugger on the command line.

Commands come from the terminal (with line editing and history), or from
standard input when it is not one (each command is then echoed after the
prompt, so a piped session reads like a transcript).  The call debugged is
``--invoke NAME``, a WASI command's ``_start``, or else the module's start
function; ``run`` starts it again from a fresh instance.  The commands are
listed by ``glasswasm debug --help`` and by ``help`` (interp/debug/commands.py).
"""

from __future__ import annotations

import argparse
import sys

from interp.cli.program import Program, add_program_arguments, exit_status, nothing_to_run
from interp.debug.commands import CommandInterpreter, QuitDebugger, command_help
from interp.debug.console import run_console
from interp.debug.session import DebugSession
from interp.errors import UsageError
from interp.wasi import ProcessExit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_arguments(parser, engine=False)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = ("debugger commands (an empty line repeats the last stepping command):\n" + command_help())


def run(args: argparse.Namespace) -> int:
    # The guest gets no standard input: the debugger reads its commands there.
    program = Program(args, engine="python", guest_stdin=False)
    try:
        session = _start(program)
    except ProcessExit as exit:
        return exit_status(exit)

    def restart() -> DebugSession:
        program.restart()
        try:
            return _start(program)
        except ProcessExit as exit:
            raise UsageError(f"the program exited with status {exit.code} before the call began") from None

    interpreter = CommandInterpreter(session, sys.stdout, restart)
    interpreter.show_location()
    try:
        run_console(interpreter, QuitDebugger)
    finally:
        interpreter.session.close()
        program.close()
    return 0


def _start(program: Program) -> DebugSession:
    """A session on the program's call, in the program's current store."""
    start = program.compiled.module.start
    debug_start = not program.args.invoke and start is not None
    instance = program.instantiate(run_start=not debug_start)
    if debug_start:
        func, values = instance.funcs[start], []
    else:
        entry = program.entry(instance)
        if entry is None:  # the start function, run already: debug_start covers it
            raise UsageError(nothing_to_run(program.args.module, instance))
        func, values = entry
    return DebugSession(program.store, func, values, source_map=program.source_map())
