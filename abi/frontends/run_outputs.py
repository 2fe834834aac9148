"""What ``glasswasm proxy`` can write besides its report: the trace (JSON
lines or the Chrome Trace Event format), focused instruction traces, the
profile (report, collapsed stacks, flame graph) and the HTML report.

``RunOutputs.open`` checks the options against the scenario before anything
runs (an unknown plugin or function to trace is an error, never an empty
trace), opens the files, and gives the trace and the VM instruments the run
needs; ``finish`` writes what is written at the end.  With ``--trace -`` the
trace is standard output's only content: the report goes to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TextIO

from abi.debug.catalog import PluginCatalog, search_paths
from abi.debug.chrome_timeline import ProxyChromeTimeline
from abi.debug.instruction_trace import InstructionTracing, TraceSelector, resolve_selectors
from abi.debug.profiling import ScenarioProfiler
from abi.debug.recording import RunRecorder
from abi.errors import UsageError
from abi.frontends.html_report import render_html
from abi.frontends.scenario import Scenario
from abi.proxy.host import ProxyHost
from abi.trace import Trace
from abi.vm.instruments import VmInstrument
from abi.vm.module import PluginModule

STDOUT = "-"


class RunOutputs:
    """The files and instruments of one run (module docstring)."""

    def __init__(self, scenario: Scenario, files: contextlib.ExitStack) -> None:
        self.scenario = scenario
        self.files = files
        self.trace = Trace(keep=False)
        self.instruments: list[VmInstrument] = []
        self.report_stream: TextIO = sys.stdout
        self._timeline: ProxyChromeTimeline | None = None
        self._profiler: ScenarioProfiler | None = None
        self._profile_files: tuple[TextIO, TextIO, TextIO] | None = None
        self._recorder: RunRecorder | None = None
        self._html: TextIO | None = None

    @staticmethod
    def open(args: argparse.Namespace, scenario: Scenario, files: contextlib.ExitStack) -> RunOutputs:
        outputs = RunOutputs(scenario, files)
        outputs._check(args)
        if args.trace:
            outputs._open_trace(args)
        if args.profile:
            report, folded, svg = _profile_paths(args.profile)
            outputs._profile_files = (outputs._open(str(report), "the profile"),
                                      outputs._open(str(folded), "the collapsed stacks"),
                                      outputs._open(str(svg), "the flame graph"))
            outputs._profiler = ScenarioProfiler(outputs._search_paths())
            outputs.instruments.append(outputs._profiler)
        if args.html:
            outputs._html = outputs._open(args.html, "the HTML report")
            outputs._recorder = RunRecorder(outputs._search_paths())
            outputs.trace.listeners.append(outputs._recorder.listen)
            outputs.instruments.insert(0, outputs._recorder)
        return outputs

    def _check(self, args: argparse.Namespace) -> None:
        if args.trace_instructions and not args.trace:
            raise UsageError("--trace-instructions needs --trace FILE")
        if args.trace_format != "jsonl" and not args.trace:
            raise UsageError("--trace-format needs --trace FILE")
        if args.trace_instructions and args.profile:
            raise UsageError("--profile and --trace-instructions cannot be used together: both watch every "
                             "instruction of the plugins; run the scenario twice")

    def _open(self, path: str, what: str) -> TextIO:
        try:
            return self.files.enter_context(open(path, "w", encoding="utf-8"))
        except OSError as error:
            raise UsageError(f"cannot write {what} to {path}: {error.strerror or error}") from None

    def _open_trace(self, args: argparse.Namespace) -> None:
        if args.trace_instructions:
            selectors = [TraceSelector.parse(text) for text in args.trace_instructions]
            chosen = resolve_selectors(selectors, self._catalog())
            self.instruments.append(InstructionTracing(self.trace, chosen))
        if args.trace == STDOUT:
            out: TextIO = sys.stdout
            self.report_stream = sys.stderr
        else:
            out = self._open(args.trace, "the trace")
        if args.trace_format == "chrome":
            self._timeline = ProxyChromeTimeline(out, Path(self.scenario.source).name)
            self.trace.listeners.append(self._timeline)
            self.files.callback(self._timeline.close)  # a complete file even when the run stops with an error
        else:
            self.trace.sink = out

    def _catalog(self) -> PluginCatalog:
        """The scenario's plugins and their modules (read to check names)."""
        return PluginCatalog({spec.name: PluginModule(spec.wasm, spec.name, spec.wasm_as_written or spec.wasm)
                              for spec in self.scenario.all_plugins})

    def _search_paths(self) -> tuple[str, ...]:
        return search_paths([spec.wasm for spec in self.scenario.all_plugins],
                            str(Path(self.scenario.source).resolve().parent))

    def finish(self, host: ProxyHost) -> None:
        """Write what is written once the run is over."""
        if self._timeline is not None:
            self._timeline.close()
        if self._profiler is not None and self._profile_files is not None:
            profile = self._profiler.finish()
            title = Path(self.scenario.source).name
            report, folded, svg = self._profile_files
            report.write(profile.report(title))
            folded.write(profile.collapsed())
            svg.write(profile.flame_graph(f"glasswasm proxy {title}"))
        if self._recorder is not None and self._html is not None:
            self._html.write(render_html(host, self._recorder, Path(self.scenario.source).name))


def _profile_paths(path: str) -> tuple[Path, Path, Path]:
    report = Path(path)
    folded, svg = report.with_suffix(".folded"), report.with_suffix(".svg")
    if report in (folded, svg):
        raise UsageError(f"--profile {path}: give the report a name of its own (the collapsed stacks go to "
                         f"{folded.name}, the flame graph to {svg.name})")
    return report, folded, svg
