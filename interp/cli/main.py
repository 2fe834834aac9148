"""Entry point of the ``glasswasm`` command: argument parsing and the one
place where errors become a single readable line and an exit status."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, NoReturn, Sequence

from interp.cli import dump as dump_command
from interp.cli import run as run_command
from interp.cli import debug as debug_command
from interp.cli import spec as spec_command
from interp.cli import trace as trace_command
from interp.errors import ExecutionError, GlasswasmError
from interp.exec.engines import ENGINES, default_engine, engine_state

EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
MAX_BACKTRACE_LINES = 20


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 1 like every
    other error of the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_FAILURE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="glasswasm", description="A WebAssembly engine you can see into.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    commands.required = True

    def add(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None],
            handler: Callable[[argparse.Namespace], int]) -> None:
        sub = commands.add_parser(name, help=help, description=help)
        configure(sub)
        sub.set_defaults(handler=handler)

    add("run", "run a .wasm or .wat module: its start function, or an export with --invoke",
        run_command.add_run_arguments, run_command.run)
    add("validate", "decode and validate a module", run_command.add_validate_arguments, run_command.validate)
    add("dump", "print a .wasm or .wat module in the text format (flat or --folded, --offsets)",
        dump_command.add_arguments, dump_command.run)
    add("spec", "run .wast scripts (the official testsuite) and report every check",
        spec_command.add_arguments, spec_command.run)
    add("proxy", "run proxy-wasm filter plugins against a simulated HTTP scenario",
        _add_proxy_arguments, _run_proxy)
    add("trace", "run a module and trace every instruction, call, memory access (text, jsonl) or the calls",
        trace_command.add_arguments, trace_command.run)
    add("debug", "debug a module on the command line: breakpoints, stepping (also backwards), inspection",
        debug_command.add_arguments, debug_command.run)
    add("engines", "list the execution engines this installation has, and the default",
        lambda parser: None, _list_engines)
    return parser


def _list_engines(args: argparse.Namespace) -> int:
    default = default_engine()
    for engine in ENGINES:
        state = engine_state(engine)
        print(f"{engine}: {state}{' (default)' if engine == default else ''}")
    return 0


def _add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    # The proxy-wasm host (abi/) is built on the engine, never the other way
    # round: it is imported only here, when the command line is parsed.
    from abi.cli import add_arguments

    add_arguments(parser)


def _run_proxy(args: argparse.Namespace) -> int:
    from abi.cli import run

    return run(args)


def describe_error(error: GlasswasmError) -> list[str]:
    """The lines printed for an error: one line, then a backtrace for
    execution errors."""
    lines = [f"{error.label}: {printable(str(error))}"]
    if isinstance(error, ExecutionError):
        trace = error.format_backtrace()
        if len(trace) > MAX_BACKTRACE_LINES:
            hidden = len(trace) - MAX_BACKTRACE_LINES
            trace = trace[:MAX_BACKTRACE_LINES] + [f"  ... {hidden} more frames"]
        lines.extend(trace)
    return lines


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped, so a
    message quoting the input stays on one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except GlasswasmError as error:
        sys.stdout.flush()
        for line in describe_error(error):
            print(line, file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly, and keep
        # the interpreter's final flush from complaining about it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
