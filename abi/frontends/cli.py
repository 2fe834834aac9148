"""``glasswasm proxy SCENARIO [--json] [--trace FILE]``: run a scenario and
show what happened.  Without ``--json`` a readable summary is printed.
``--istio FILE`` and ``--envoy FILE`` take the plugins from Istio or Envoy
configuration (``abi.frontends.scenario_sources``); ``--explain`` prints the
chains built from it instead of running, and what the simulation cannot
honour is printed as notes on standard error.
Problems with the scenario or a plugin module are one line on standard
error and exit status 1 (the ``glasswasm`` command prints every
``GlasswasmError`` that way).  What plugins do wrong while running is part
of the report.  Then what the scenario expects is checked
(``abi.frontends.expectations``): each unmet expectation is a line on
standard error, with what happened instead, and the exit status is 1.  A
plugin failure the scenario does not expect (``expect: failures``) is one of
them, unless ``--allow-failures``.

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
from interp.cli.diagnostics import printable
from interp.cli.cache import add_cache_option
from interp.cli.engine_option import add_engine_argument
from interp.translate.cache import use_cache


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="a scenario file (YAML or JSON)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON document")
    add_output_arguments(parser)
    parser.add_argument("--debug", action="store_true",
                        help="run the scenario under the debugger, gdb-like (commands on standard input; "
                             "'help' lists them); the plugins run on the step machine")
    parser.add_argument("--allow-failures", action="store_true",
                        help="let any plugin fail: failures the scenario does not expect are not unmet "
                             "expectations (its other expectations are still checked)")
    parser.add_argument("--istio", metavar="FILE", action="append", default=[],
                        help="Istio WasmPlugin resources (YAML, several documents allowed) building the chains for "
                             "the scenario's istio.workload (repeatable)")
    parser.add_argument("--envoy", metavar="FILE",
                        help="an Envoy v3 bootstrap or listener configuration whose Wasm filters and services run")
    parser.add_argument("--envoy-listener", metavar="NAME",
                        help="with an Envoy configuration: the listener the traffic arrives at (default: the first)")
    parser.add_argument("--explain", action="store_true",
                        help="print the chains built from the Istio or Envoy configuration, and why each resource "
                             "or filter applied or not, without running the traffic")
    add_engine_argument(parser)
    add_cache_option(parser)


def run(args: argparse.Namespace) -> int:
    from abi.frontends.debugger import debug_scenario
    from abi.frontends.expectations import check_expectations
    from abi.frontends.report import build_report, render_json, render_summary
    from abi.frontends.run_outputs import RunOutputs
    from abi.frontends.runner import run_scenario
    from abi.frontends.scenario_sources import load_scenario_with_sources

    use_cache(not args.no_cache)
    sourced = load_scenario_with_sources(args.scenario, args.istio, args.envoy, args.envoy_listener)
    if args.explain:
        _write("".join(f"{line}\n" for line in sourced.explanation()), sys.stdout)
        return 0
    for note in sourced.notes:
        print(f"glasswasm proxy: note: {note}", file=sys.stderr)
    scenario = sourced.scenario
    if args.debug:
        return debug_scenario(args, scenario)
    with contextlib.ExitStack() as files:
        # The trace goes to its file as it is made; the command keeps none of it in memory.
        outputs = RunOutputs.open(args, scenario, files)
        host = run_scenario(scenario, args.engine, outputs.trace, outputs.instruments)
        outputs.finish(host)
    _write(render_json(build_report(host)) if args.json else render_summary(host), outputs.report_stream)
    outputs.report_stream.flush()
    results = check_expectations(scenario.expectations, host)
    if args.allow_failures:
        results = results.without_unexpected_failures()
    if results.unmet:
        print(f"glasswasm proxy: {len(results.unmet)} of {results.checked} expectations not met:", file=sys.stderr)
        for item in results.unmet:
            print(f"  {printable(item.describe())}", file=sys.stderr)
        if any(item.unexpected_failure for item in results.unmet):
            print("  (list the plugins expected to fail in expect.failures, or pass --allow-failures)",
                  file=sys.stderr)
        return 1
    if scenario.expectations.stated:
        met = "the one expectation" if results.checked == 1 else f"all {results.checked} expectations"
        print(f"glasswasm proxy: {met} met", file=sys.stderr)
    return 0


def _write(text: str, out: TextIO) -> None:
    """Print even where the terminal's encoding lacks some characters
    (they are written as escapes instead of failing)."""
    encoding = out.encoding or "utf-8"
    out.write(text.encode(encoding, "backslashreplace").decode(encoding))
