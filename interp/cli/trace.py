"""``glasswasm trace``: run a module and print what it does, instruction by
instruction (``text``, ``jsonl``), as a tree of calls (``calls``), or as a
Chrome Trace Event timeline of its calls (``chrome``).  Tracing runs on the
step machine, whatever engine is the default.

When the trace goes to standard output, what the guest itself writes there
goes to standard error, so the trace stays readable by programs."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from interp.cli.program import Program, add_program_arguments, exit_status
from interp.debug.trace_formats import TRACE_FORMATS
from interp.debug.tracing import StepLimitReached, TracingObserver
from interp.errors import UsageError
from interp.wasi import ProcessExit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_arguments(parser, engine=False)
    parser.add_argument("--trace-format", "--format", dest="format", choices=sorted(TRACE_FORMATS),
                        default="text",
                        help="text: every instruction with its stack; jsonl: one JSON object per event, with its "
                             "step; calls: the call tree; chrome: the Chrome Trace Event format (Perfetto UI, "
                             "chrome://tracing), calls as slices on the step-count timeline")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the trace to FILE instead of stdout")
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop tracing after N instructions")
    parser.add_argument("--function", action="append", default=[], metavar="NAME",
                        help="trace only inside this function (name or index; repeatable)")


def run(args: argparse.Namespace) -> int:
    if args.max_steps is not None and args.max_steps < 0:
        raise UsageError("--max-steps must not be negative")
    program = Program(args, engine="python", guest_stdout="stdout" if args.output else "stderr")
    with ExitStack() as resources:
        resources.callback(program.close)
        out: TextIO = sys.stdout
        if args.output:
            try:
                out = resources.enter_context(open(args.output, "w", encoding="utf-8"))
            except OSError as error:
                raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
        tracer = TRACE_FORMATS[args.format](out, Path(args.module).name)
        program.store.observe(TracingObserver(tracer, args.function, args.max_steps))
        try:
            instance = program.instantiate()
            entry = program.entry(instance)
            if entry is not None:
                func, values = entry
                results = program.store.invoke(func, *values)
                if out is not sys.stdout:
                    program.print_results(func, results)
        except StepLimitReached:
            return 0
        except ProcessExit as exit:
            return exit_status(exit)
        finally:
            tracer.finish()
    return 0
