"""Entry point of the ``glasswasm`` command: argument parsing and the one
place where errors become a single readable line and an exit status."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from typing import Callable, NoReturn, Sequence

from interp.cli import assemble as assemble_command
from interp.cli import cache as cache_command
from interp.cli import dump as dump_command
from interp.cli import inspect as inspect_command
from interp.cli import run as run_command
from interp.cli import debug as debug_command
from interp.cli import profile as profile_command
from interp.cli import spec as spec_command
from interp.cli import trace as trace_command
from interp.cli.diagnostics import describe_error
from interp.errors import GlasswasmError
from interp.exec.engines import ENGINES, default_engine, engine_state
from interp.translate.cache import flush_default_cache
from interp.version import PACKAGE, package_version

EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130

COMMAND_SYNONYMS = {
    "compile": "assemble",
    "wat2wasm": "assemble",
    "wasm2wat": "dump",
    "disassemble": "dump",
    "objdump": "inspect",
    "info": "inspect",
    "test": "spec",
    "wast": "spec",
}
"""Commands other tools call by another name, suggested when typed here."""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 1 like every
    other error of the command, and a mistyped command gets a suggestion."""

    command_action: argparse.Action | None = None
    intermixed = False
    """Whether options may come after the positional arguments (``glasswasm
    run fib.wat --invoke fib 10``): the commands taking MODULE ARGS... parse
    that way."""
    _parsing_intermixed = False

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_FAILURE, f"{self.prog}: error: {message}\n")

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def,override]
        if not self.intermixed or self._parsing_intermixed:
            return super().parse_known_args(args, namespace)
        # parse_known_intermixed_args calls back into parse_known_args for
        # each of its two passes, which must then parse the plain way.
        self._parsing_intermixed = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._parsing_intermixed = False

    def _check_value(self, action: argparse.Action, value: object) -> None:
        if action is self.command_action and action.choices is not None and value not in action.choices:
            raise argparse.ArgumentError(None, unknown_command(str(value), list(action.choices)))
        super()._check_value(action, value)


def unknown_command(word: str, commands: list[str]) -> str:
    suggestion = COMMAND_SYNONYMS.get(word) or nearest(word, commands)
    if suggestion is not None:
        return f"unknown command '{word}'; did you mean '{suggestion}'?"
    return f"unknown command '{word}' (commands: {', '.join(commands)})"


def nearest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate ``word`` is most likely a typo of, if any is close."""
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def build_parser() -> _ArgumentParser:
    parser = _ArgumentParser(prog="glasswasm", description="A WebAssembly engine you can see into.")
    parser.add_argument("--version", action="version", version=f"{PACKAGE} {package_version()}",
                        help="print the version of glasswasm and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    commands.required = True
    parser.command_action = commands

    def add(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None],
            handler: Callable[[argparse.Namespace], int], intermixed: bool = False) -> None:
        sub = commands.add_parser(name, help=help, description=help)
        sub.intermixed = intermixed
        configure(sub)
        sub.set_defaults(handler=handler)

    add("run", "run a .wasm or .wat module: its start function, a WASI command, or an export with --invoke",
        run_command.add_run_arguments, run_command.run, intermixed=True)
    add("validate", "decode and validate a module", run_command.add_validate_arguments, run_command.validate)
    add("assemble", "write the binary of a .wat text module, as wat2wasm does",
        assemble_command.add_arguments, assemble_command.run)
    add("inspect", "list a module's sections, imports, exports, types, limits and custom sections "
        "(and what a proxy-wasm plugin exports)", inspect_command.add_arguments, inspect_command.run)
    add("dump", "print a .wasm or .wat module in the text format (flat or --folded, --offsets)",
        dump_command.add_arguments, dump_command.run)
    add("spec", "run .wast scripts (the official testsuite) and report every check",
        spec_command.add_arguments, spec_command.run)
    add("proxy", "run proxy-wasm filter plugins against a simulated HTTP scenario",
        _add_proxy_arguments, _run_proxy)
    add("trace", "run a module and trace every instruction, call, memory access (text, jsonl) or the calls",
        trace_command.add_arguments, trace_command.run, intermixed=True)
    add("debug", "debug a module on the command line: breakpoints, stepping (also backwards), inspection",
        debug_command.add_arguments, debug_command.run, intermixed=True)
    add("profile", "run a module and count the instructions of every function, call stack and source line",
        profile_command.add_arguments, profile_command.run, intermixed=True)
    add("engines", "list the execution engines this installation has, and the default",
        lambda parser: None, _list_engines)
    add("cache", "show the module cache (where it is, its entries and their sizes), or --clear it",
        cache_command.add_arguments, cache_command.run)
    return parser


def parse_arguments(parser: _ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; arguments no option or position takes are
    answered with a hint: the option meant, or where a module's own
    dash-arguments go."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        commands = parser.command_action.choices if parser.command_action is not None else None
        sub = commands[args.command] if isinstance(commands, dict) else parser
        sub.error(unrecognized(extras, sub))
    return args


def unrecognized(extras: list[str], parser: _ArgumentParser) -> str:
    word = extras[0]
    if not word.startswith("-"):
        return f"unexpected argument '{word}'"
    name = word.partition("=")[0]
    options = [option for action in parser._actions for option in action.option_strings]
    suggestion = nearest(name, options)
    if suggestion is not None:
        return f"unrecognized option '{name}'; did you mean '{suggestion}'?"
    if parser.intermixed:
        return (f"unrecognized option '{name}'; an argument for the module that starts with a dash "
                f"goes after --: {parser.prog} MODULE -- {word}")
    return f"unrecognized option '{name}'"


def _list_engines(args: argparse.Namespace) -> int:
    default = default_engine()
    for engine in ENGINES:
        state = engine_state(engine)
        print(f"{engine}: {state}{' (default)' if engine == default else ''}")
    return 0


def _add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    # The proxy-wasm host (abi/) is built on the engine, never the other way
    # round: it is imported only here, when the command line is parsed.
    from abi.frontends.cli import add_arguments

    add_arguments(parser)


def _run_proxy(args: argparse.Namespace) -> int:
    from abi.frontends.cli import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parse_arguments(parser, argv)
    try:
        try:
            return args.handler(args)
        finally:
            flush_default_cache()
    except GlasswasmError as error:
        sys.stdout.flush()
        for line in describe_error(error):
            print(line, file=sys.stderr)
        return EXIT_FAILURE
    except MemoryError:
        # Whatever ran out (a huge module, a host with little memory), the answer is one line.
        sys.stdout.flush()
        print("resource limit: this host ran out of memory", file=sys.stderr)
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
