"""``glasswasm run`` and ``glasswasm validate``."""

from __future__ import annotations

import argparse

from interp.cli.program import Program, add_program_arguments, exit_status
from interp.loader import compile_bytes, read_file
from interp.wasi import ProcessExit


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_arguments(parser)


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("module", metavar="MODULE", help="a .wasm binary or .wat text module")


def run(args: argparse.Namespace) -> int:
    """Instantiate the module (running its start function), then call its
    entry (``--invoke NAME``, or a WASI command's ``_start``)."""
    program = Program(args)
    try:
        instance = program.instantiate()
        entry = program.entry(instance)
        if entry is not None:
            func, values = entry
            program.print_results(func, program.store.invoke(func, *values))
    except ProcessExit as exit:
        return exit_status(exit)
    finally:
        program.close()
    return 0


def validate(args: argparse.Namespace) -> int:
    """Decode and validate in one pass (never from the module cache)."""
    compile_bytes(read_file(args.module), args.module)
    print(f"{args.module}: valid")
    return 0
