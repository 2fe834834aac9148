"""``glasswasm proxy SCENARIO --debug``: the gdb-like debugger over a whole
scenario (abi/debug/session.py, abi/debug/commands.py), its commands read
from the terminal with line editing, or from standard input when it is not
one (echoed, so that a piped session reads like a transcript), as
``glasswasm debug`` does.

``scenario_debugger(scenario)`` is the same session from Python.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from abi.debug.catalog import search_paths
from abi.debug.commands import HostCommandInterpreter
from abi.debug.session import HostDebugSession
from abi.errors import UsageError
from abi.frontends.runner import host_for, run_timeline
from abi.frontends.scenario import Scenario, load_scenario
from interp.debug.commands import QuitDebugger
from interp.debug.console import run_console

EXCLUSIVE = ("json", "trace", "profile", "html")


def scenario_debugger(scenario: Scenario | str) -> HostDebugSession:
    """A debugging session over a scenario (a ``Scenario`` or its file),
    stopped at the first instruction of its first callback."""
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    traffic = [item.name for item in loaded.streams] + [connection.name for connection in loaded.connections]
    paths = search_paths([spec.wasm for spec in loaded.all_plugins], str(Path(loaded.source).resolve().parent))
    return HostDebugSession(lambda instruments: host_for(loaded, "python", None, instruments),
                            lambda host: run_timeline(host, loaded), traffic, paths)


def debug_scenario(args: argparse.Namespace, scenario: Scenario) -> int:
    """The ``--debug`` command line."""
    given = [f"--{name}" for name in EXCLUSIVE if getattr(args, name)]
    if given or args.trace_instructions:
        raise UsageError(f"--debug runs the scenario under the debugger only; leave out "
                         f"{', '.join(given or ['--trace-instructions'])}")
    debugger = scenario_debugger(scenario)
    try:
        interpreter = HostCommandInterpreter(debugger, sys.stdout)
        names = ", ".join(debugger.catalog.names)
        print(f"debugging {Path(scenario.source).name}: plugins {names}; the plugins run on the step machine")
        interpreter.show_location()
        run_console(interpreter, QuitDebugger)
    finally:
        debugger.close()
    return 0
