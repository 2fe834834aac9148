"""What profiling costs: a program run under ``Profiler`` (every instruction
counted in its call path) against the same program on the step machine
alone.  Run with ``python -m pytest benchmarks --benchmark-enable``."""

from __future__ import annotations

from interp.debug.profiler import Profiler
from interp.translate.compiled import compile_module
from interp.loader import read_module
from interp.exec.store import EngineConfig, Store

from .conftest import PROGRAMS, best_time


def test_profiled_fib(benchmark) -> None:
    compiled = compile_module(read_module(PROGRAMS / "fib.wasm"))

    def run_profiled() -> int:
        store = Store(EngineConfig(engine="python"))
        func = store.instantiate(compiled).exported_function("fib")
        profiler = Profiler(store)
        assert store.invoke(func, 20) == [6765]
        return profiler.finish().total

    def run_plain() -> None:
        store = Store(EngineConfig(engine="python"))
        store.invoke(store.instantiate(compiled).exported_function("fib"), 20)

    instructions = benchmark.pedantic(run_profiled, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["instructions"] = instructions
    if benchmark.stats is not None:
        mean = benchmark.stats.stats.mean
        benchmark.extra_info["instructions_per_second"] = round(instructions / mean)
        benchmark.extra_info["times_slower_than_unprofiled"] = round(mean / best_time(run_plain, 3), 1)
