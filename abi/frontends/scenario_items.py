"""Scenario files as pytest tests (collected by ``abi.frontends.pytest_plugin``
for files named ``*.scenario.yaml``, ``.scenario.yml`` or ``.scenario.json``).

A file gives one item per stream and per connection, named after it, and
one item named ``scenario`` for the run as a whole (the top-level
``expect``, and plugin failures that belong to no stream or connection).
The scenario runs once per file and process, when its first item runs; each
item then checks its share of ``abi.frontends.expectations``.  A failing
item shows its unmet expectations and what happened to its stream or
connection; its report has the plugins' logs (that stream's or connection's
and the root contexts') in a ``glasswasm plugin logs`` section.  A scenario
that cannot be loaded is a collection error, and a plugin that cannot be
loaded fails every item, each in one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from abi.frontends.expectations import ExpectationResults, Unmet, check_expectations
from abi.frontends.failure_logs import LOG_SOURCES
from abi.frontends.report import render_logs, traffic_lines
from abi.frontends.runner import run_scenario
from abi.frontends.scenario import Scenario, load_scenario
from abi.proxy.host import ProxyHost
from abi.trace import Trace
from interp.errors import GlasswasmError

RUN_ITEM = "scenario"


@dataclass(frozen=True)
class ScenarioRun:
    """One run of a file's scenario: the host and the checked expectations,
    or the one-line error that stopped it."""

    host: ProxyHost | None
    results: ExpectationResults | None
    error: str | None = None


class ScenarioItemFailure(Exception):
    """A scenario item failed; ``repr_failure`` shows ``lines`` as they are."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class ScenarioFile(pytest.File):
    """A scenario file: its items, and its run (once, shared by them)."""

    _scenario: Scenario | None = None
    _run: ScenarioRun | None = None

    def collect(self) -> Iterator[pytest.Item]:
        self._scenario = load_scenario(self.path)
        names = [*(stream.name for stream in self._scenario.streams),
                 *(connection.name for connection in self._scenario.connections)]
        run_name = RUN_ITEM if RUN_ITEM not in names else f"{RUN_ITEM} (the run)"
        yield ScenarioItem.from_parent(self, name=run_name, subject=None)
        for name in names:
            yield ScenarioItem.from_parent(self, name=name, subject=name)

    def run(self) -> ScenarioRun:
        if self._run is None:
            scenario = self._scenario if self._scenario is not None else load_scenario(self.path)
            try:
                host = run_scenario(scenario, trace=Trace(keep=False))
            except GlasswasmError as error:
                self._run = ScenarioRun(None, None, f"{type(error).__name__}: {error}")
            else:
                self._run = ScenarioRun(host, check_expectations(scenario.expectations, host))
        return self._run

    # pytest's Collector narrows Node.repr_failure the same way.
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, GlasswasmError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class ScenarioItem(pytest.Item):
    """A stream's or connection's expectations (``subject``), or the run's
    (``subject`` ``None``)."""

    def __init__(self, *, subject: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subject = subject

    @property
    def scenario_file(self) -> ScenarioFile:
        parent = self.parent
        if not isinstance(parent, ScenarioFile):
            raise TypeError("a scenario item belongs to a scenario file")
        return parent

    def runtest(self) -> None:
        run = self.scenario_file.run()
        if run.error is not None or run.host is None or run.results is None:
            raise ScenarioItemFailure([run.error or "the scenario did not run"])
        host = run.host
        self.stash.setdefault(LOG_SOURCES, []).append(lambda: render_logs(host, self.subject))
        unmet = run.results.of(self.subject)
        if unmet:
            raise ScenarioItemFailure(self.failure_lines(unmet, host))

    def failure_lines(self, unmet: tuple[Unmet, ...], host: ProxyHost) -> list[str]:
        lines = [item.describe() for item in unmet]
        if self.subject is not None:
            lines += ["what happened:", *traffic_lines(host, self.subject)]
        return lines

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioItemFailure):
            return "\n".join(excinfo.value.lines)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        what = "the run" if self.subject is None else self.subject
        return self.path, None, f"scenario {self.path.name}: {what}"
