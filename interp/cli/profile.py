"""``glasswasm profile``: run a module and report where its instructions went.

The report (standard output, or ``-o FILE``) gives the instructions executed
in all, the hottest functions (self and total) and, for a module with DWARF
line information, the hottest source lines.  ``--collapsed FILE`` writes the
call stacks in the collapsed format (flamegraph.pl, speedscope, Perfetto) and
``--svg FILE`` a flame graph.  The counts are exact: the step machine counts
every instruction it executes (profiling always runs on it).

When the report goes to standard output, what the guest itself writes there
goes to standard error.  A run that traps or exits still reports what it
executed before the error is printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from interp.cli.program import Program, add_program_arguments, exit_status
from interp.debug.flame_graph import flame_graph_svg
from interp.debug.frames import type_names, typed
from interp.debug.profile import Profile
from interp.debug.profiler import Profiler
from interp.errors import UsageError
from interp.wasi import ProcessExit

DEFAULT_ROWS = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_arguments(parser, engine=False)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--top", type=int, default=DEFAULT_ROWS, metavar="N",
                        help=f"functions and source lines to list (default {DEFAULT_ROWS})")
    parser.add_argument("--collapsed", metavar="FILE",
                        help="write the call stacks in the collapsed format (flamegraph.pl, speedscope, Perfetto)")
    parser.add_argument("--svg", metavar="FILE", help="write a flame graph (SVG)")


def run(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise UsageError("--top must not be negative")
    outputs = {name: _open(path) for name, path in
               (("report", args.output), ("collapsed", args.collapsed), ("svg", args.svg)) if path}
    program = Program(args, engine="python", guest_stdout="stdout" if args.output else "stderr")
    profiler = Profiler(program.store, source_map=program.source_map())
    summary = ""
    status = 0
    try:
        instance = program.instantiate()
        entry = program.entry(instance)
        if entry is not None:
            func, values = entry
            names = type_names(func)
            shown = ", ".join(typed(value, valtype, names) for value, valtype in zip(values, func.type.params))
            summary = f"{func.describe()}({shown})"
            results = program.store.invoke(func, *values)
            summary += " = " + (", ".join(typed(v, t, names) for v, t in zip(results, func.type.results)) or "()")
    except ProcessExit as exit:
        status = exit_status(exit)
        summary += f" exited with status {exit.code}"
    finally:
        program.close()
        profile = profiler.finish()
        _write_all(profile, outputs, args, summary)
    return status


def _open(path: str) -> TextIO:
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def _write_all(profile: Profile, outputs: dict[str, TextIO], args: argparse.Namespace, summary: str) -> None:
    name = Path(args.module).name
    report = outputs.get("report", sys.stdout)
    header = f"profile of {summary or name} ({name})\n" if summary else f"profile of {name}\n"
    report.write(header + profile.report(args.top, args.top))
    if "collapsed" in outputs:
        outputs["collapsed"].write(profile.collapsed())
    if "svg" in outputs:
        outputs["svg"].write(flame_graph_svg(profile, f"{summary or name}",
                                             f"{profile.total:,} instructions executed in {name}, "
                                             f"exact counts from the step machine"))
    for stream in outputs.values():
        stream.close()
