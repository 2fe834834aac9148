"""Real programs (C compiled to wasm32, see programs/build.sh) on the engine.

Each benchmark counts the wasm instructions it executes (through the fuel
counter) and reports instructions per second in ``extra_info``, so the figures
compare across engines and machines.  Run with:

    python -m pytest benchmarks --benchmark-enable
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.exec.compiled import compile_module
from interp.loader import read_module
from interp.runtime.store import Store

PROGRAMS = Path(__file__).with_name("programs")
COUNTING_FUEL = 1 << 60

# (program, export, arguments, expected result: checked against the same C compiled natively)
CASES = [
    ("fib", "fib", (22,), 17711),
    ("sieve", "count_primes", (50_000,), 5133),
    ("mandelbrot", "mandelbrot", (32, 100), 404),
    ("sha256", "sha256_pattern", (2048,), 2087875273),  # checked against hashlib
]


@pytest.mark.parametrize("program, export, args, expected", CASES, ids=[c[0] for c in CASES])
def test_program(benchmark, program: str, export: str, args: tuple, expected: int) -> None:
    compiled = compile_module(read_module(PROGRAMS / f"{program}.wasm"))
    store = Store()
    instance = store.instantiate(compiled)
    func = instance.exported_function(export)

    def run() -> list:
        store.set_fuel(COUNTING_FUEL)
        return store.invoke(func, *args)

    results = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    instructions = COUNTING_FUEL - (store.fuel or 0)
    assert results == [expected]
    benchmark.extra_info["instructions"] = instructions
    if benchmark.stats is not None:
        benchmark.extra_info["instructions_per_second"] = round(instructions / benchmark.stats.stats.mean)
