"""``glasswasm proxy SCENARIO [--json] [--trace FILE]``: run a scenario and
show what happened.  Without ``--json`` a readable summary is printed.
Problems with the scenario or a plugin module are one line on standard
error and exit status 1 (the ``glasswasm`` command prints every
``GlasswasmError`` that way).  What plugins do wrong while running is part
of the report; a plugin failure the scenario does not expect (``expect:
failures``) also makes the exit status 1, unless ``--allow-failures``.

Module-level imports stay minimal: the ``glasswasm`` command builds this
parser for every subcommand, and the host itself is loaded only when a
scenario runs.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

from abi.frontends.output_options import add_output_arguments
from interp.cli.engine_option import add_engine_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="a scenario file (YAML or JSON)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON document")
    add_output_arguments(parser)
    parser.add_argument("--debug", action="store_true",
                        help="run the scenario under the debugger, gdb-like (commands on standard input; "
                             "'help' lists them); the plugins run on the step machine")
    parser.add_argument("--allow-failures", action="store_true",
                        help="exit with status 0 even when plugins fail that the scenario does not expect to")
    add_engine_argument(parser)


def run(args: argparse.Namespace) -> int:
    from abi.frontends.report import build_report, failed_plugins, render_json, render_summary
    from abi.frontends.debugger import debug_scenario
    from abi.frontends.run_outputs import RunOutputs
    from abi.frontends.runner import run_scenario
    from abi.frontends.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.debug:
        return debug_scenario(args, scenario)
    with contextlib.ExitStack() as files:
        # The trace goes to its file as it is made; the command keeps none of it in memory.
        outputs = RunOutputs.open(args, scenario, files)
        host = run_scenario(scenario, args.engine, outputs.trace, outputs.instruments)
        outputs.finish(host)
    _write(render_json(build_report(host)) if args.json else render_summary(host), outputs.report_stream)
    expected = scenario.expected_failures
    unexpected = [] if expected is True else [name for name in failed_plugins(host) if name not in expected]
    if unexpected and not args.allow_failures:
        print(f"glasswasm proxy: plugin{'s' if len(unexpected) > 1 else ''} {', '.join(unexpected)} failed "
              f"(expect them with `expect: {{failures: [...]}}` or pass --allow-failures)", file=sys.stderr)
        return 1
    return 0


def _write(text: str, out: TextIO) -> None:
    """Print even where the terminal's encoding lacks some characters
    (they are written as escapes instead of failing)."""
    encoding = out.encoding or "utf-8"
    out.write(text.encode(encoding, "backslashreplace").decode(encoding))
