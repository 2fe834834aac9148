"""What seeing inside a proxy run costs, on the gateway scenario (five real
filters, four streams, an HTTP callout per request): the run as it is, with
the HTML report's recording, profiled, and under the debugger — running
to the end, and going back (which runs the scenario again to the target)."""

from __future__ import annotations

from pathlib import Path

from abi.debug.profiling import ScenarioProfiler
from abi.debug.recording import RunRecorder
from abi.frontends.debugger import scenario_debugger
from abi.frontends.runner import run_scenario
from abi.frontends.scenario import load_scenario
from abi.trace import Trace

GATEWAY = Path(__file__).resolve().parents[1] / "tests" / "abi" / "scenarios" / "gateway.yaml"


def test_gateway_as_it_is(benchmark) -> None:
    scenario = load_scenario(GATEWAY)
    host = benchmark.pedantic(lambda: run_scenario(scenario, "python"), rounds=3, iterations=1)
    assert not host.failures


def test_gateway_recorded_for_the_html_report(benchmark) -> None:
    scenario = load_scenario(GATEWAY)

    def recorded() -> RunRecorder:
        recorder = RunRecorder()
        run_scenario(scenario, "python", Trace(keep=False, listeners=[recorder.listen]), [recorder])
        return recorder

    assert benchmark.pedantic(recorded, rounds=3, iterations=1).records


def test_gateway_profiled(benchmark) -> None:
    scenario = load_scenario(GATEWAY)

    def profiled() -> int:
        profiler = ScenarioProfiler()
        run_scenario(scenario, "python", None, [profiler])
        return profiler.finish().total

    total = benchmark.pedantic(profiled, rounds=3, iterations=1)
    if benchmark.stats is not None:
        benchmark.extra_info["instructions_per_second"] = round(total / benchmark.stats.stats.mean)


def test_gateway_under_the_debugger_to_its_end(benchmark) -> None:
    def to_the_end() -> int:
        debugger = scenario_debugger(GATEWAY)
        try:
            debugger.continue_()
            return debugger.position
        finally:
            debugger.close()

    steps = benchmark.pedantic(to_the_end, rounds=3, iterations=1)
    if benchmark.stats is not None:
        benchmark.extra_info["steps_per_second"] = round(steps / benchmark.stats.stats.mean)


def test_gateway_going_back_to_its_middle(benchmark) -> None:
    debugger = scenario_debugger(GATEWAY)
    try:
        debugger.continue_()
        middle = debugger.position // 2
        benchmark.pedantic(lambda: debugger.go_to(middle), rounds=3, iterations=1)
        assert debugger.position == middle
    finally:
        debugger.close()
